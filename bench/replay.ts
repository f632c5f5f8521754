import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { readSqliteLogFacts } from '../src/audit/source'
import { verifyLedger } from '../src/audit/verify'
import { rebuildProjections } from '../src/projections/rebuild'
import { openSqliteEventStore } from '../src/store/sqlite'
import type { GeneratedLog } from './log'
import { repeatCount, scratchDir } from './settings'
import { median, perSecond, progress } from './stats'

/**
 * Replays of the million-event log: rebuilding every projection (`rebuildProjections`) and
 * verifying the whole log (`verifyLedger` with the store's facts), each against the raw read
 * of the same rows: one better-sqlite3 statement iterating the events table in position order
 * and JSON-parsing data and metadata of every row. Each round runs the three one after the
 * other, and each ratio is the median of the rounds' ratios, so a noisy spell counts once.
 */

export interface ReplayResults {
  readonly rawEventsPerSecond: number
  readonly rebuildEventsPerSecond: number
  readonly verifyEventsPerSecond: number
  readonly rebuildRatio: number
  readonly verifyRatio: number
  /** A projections file rebuilt up to the head of the log, for the cold start. */
  readonly projectionsPath: string
}

export type ReplayPart = 'rebuild' | 'verify'

export const benchReplay = async (
  log: GeneratedLog,
  parts: readonly ReplayPart[] = ['rebuild', 'verify'],
  roundCount = repeatCount,
): Promise<ReplayResults> => {
  mkdirSync(scratchDir, { recursive: true })
  const projectionsPath = join(scratchDir, 'projections.db')
  const rounds: { raw: number; rebuild: number; verify: number }[] = []
  for (let round = 0; round < roundCount; round += 1) {
    const raw = rawRead(log)
    const rebuild = parts.includes('rebuild')
      ? await measureRebuild(log, projectionsPath)
      : Number.NaN
    const verify = parts.includes('verify') ? await measureVerify(log) : Number.NaN
    rounds.push({ raw, rebuild, verify })
    progress(
      `replay round ${round + 1}: raw ${raw.toFixed(0)}/s, rebuild ${rebuild.toFixed(0)}/s, ` +
        `verify ${verify.toFixed(0)}/s`,
    )
  }
  return {
    rawEventsPerSecond: median(rounds.map((r) => r.raw)),
    rebuildEventsPerSecond: median(rounds.map((r) => r.rebuild)),
    verifyEventsPerSecond: median(rounds.map((r) => r.verify)),
    rebuildRatio: median(rounds.map((r) => r.rebuild / r.raw)),
    verifyRatio: median(rounds.map((r) => r.verify / r.raw)),
    projectionsPath,
  }
}

/** Every row in order, data and metadata parsed; events per second. */
export const rawRead = (log: GeneratedLog): number => {
  const db = new Database(log.path, { readonly: true, fileMustExist: true })
  try {
    const rows = db
      .prepare<[], [number, string, number, string, string, string, string]>(
        'SELECT position, stream_id, revision, event_id, type, data, metadata FROM events ' +
          'ORDER BY position',
      )
      .raw(true)
    const startMs = performance.now()
    let count = 0
    let checksum = 0
    for (const row of rows.iterate()) {
      const data = JSON.parse(row[5]) as unknown
      const metadata = JSON.parse(row[6]) as { hash: string }
      // Touch what was parsed so that no engine may skip the work.
      if (data !== null) checksum += metadata.hash.length
      count += 1
    }
    const durationMs = performance.now() - startMs
    if (count !== log.eventCount || checksum === 0) {
      throw new Error(`assertion failed: raw read ${count} events of ${log.eventCount}`)
    }
    return perSecond(count, durationMs)
  } finally {
    db.close()
  }
}

/** A full rebuild into a fresh projections file; events per second. */
const measureRebuild = async (log: GeneratedLog, projectionsPath: string): Promise<number> => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${projectionsPath}${suffix}`, { force: true })
  const store = openSqliteEventStore({ path: log.path })
  try {
    const startMs = performance.now()
    const result = await rebuildProjections({ store, path: projectionsPath })
    const durationMs = performance.now() - startMs
    // The generated log's positions run from 1 without a gap, so its head is its length.
    if (result.position !== log.eventCount) {
      throw new Error(`assertion failed: rebuilt to ${result.position} of ${log.eventCount}`)
    }
    return perSecond(log.eventCount, durationMs)
  } finally {
    await store.close()
  }
}

/** A verification of the whole log with the store's facts; events per second. */
const measureVerify = async (log: GeneratedLog): Promise<number> => {
  const store = openSqliteEventStore({ path: log.path })
  try {
    const startMs = performance.now()
    const result = await verifyLedger({ store, facts: readSqliteLogFacts(log.path) })
    const durationMs = performance.now() - startMs
    if (!result.ok || result.checkedEvents !== log.eventCount) {
      const problem = JSON.stringify(result.firstProblem)
      throw new Error(`verification of the generated log failed: ${problem}`)
    }
    return perSecond(result.checkedEvents, durationMs)
  } finally {
    await store.close()
  }
}
