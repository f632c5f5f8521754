import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pino from 'pino'
import { hashEvent } from '../../src/audit/hash'
import { startSealer } from '../../src/audit/seal'
import { readSqliteLogFacts } from '../../src/audit/source'
import {
  verifyLedger,
  type VerificationAnchor,
  type VerificationResult,
} from '../../src/audit/verify'
import { openSqliteEventStore } from '../../src/store/sqlite'
import type { EventStore } from '../../src/store/port'
import { buildLedger, purchaseEvents, type LedgerWriter } from './ledger-fixture'

/**
 * Helpers of the verification tests: a sealed ledger in a SQLite file made once, copies of it to
 * tamper with, and tampering done the way an intruder with the file would, with better-sqlite3.
 */

export const silentLogger = pino({ level: 'silent' })

export interface BaseLedger {
  readonly dir: string
  readonly path: string
  /** Events in the log, seals included. */
  readonly eventCount: number
  readonly sealCount: number
  readonly writer: LedgerWriter
  readonly clean: VerificationResult
}

/**
 * Writes the ledger, seals it every 100 events, then appends two purchases left unsealed, so the
 * log has both a sealed part and an unsealed tail.
 */
export const makeBaseLedger = async (purchaseCount: number): Promise<BaseLedger> => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-audit-'))
  const path = join(dir, 'base.db')
  const store = openSqliteEventStore({ path })
  const writer = await buildLedger(store, purchaseCount)
  const sealing = { store, intervalEvents: 100, intervalMs: 3_600_000, logger: silentLogger }
  const sealer = startSealer(sealing)
  await sealer.stop()
  await writer.command('tail-1', purchaseEvents(800_001, 'M1', 30_00))
  await writer.command('tail-2', purchaseEvents(800_002, 'M2', 35_00))

  const seals = await store.readStream('seal-ledger')
  const eventCount = await store.headPosition()
  const clean = await verifyFile(path)
  await store.close()
  return { dir, path, eventCount, sealCount: seals.length, writer, clean }
}

let copies = 0

/** A copy of the base file to tamper with. */
export const copyLedger = (base: BaseLedger): string => {
  copies += 1
  const path = join(base.dir, `copy-${copies}.db`)
  copyFileSync(base.path, path)
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(base.path + suffix)) copyFileSync(base.path + suffix, path + suffix)
  }
  return path
}

/**
 * Verifies a file as the CLI does: the store, plus the facts SQLite keeps beside the events.
 * Twice, hashing on this thread and on a digest thread, which must give the same verdict: these
 * logs are too small for a verification to start the thread by itself.
 */
export const verifyFile = async (
  path: string,
  anchor?: VerificationAnchor,
): Promise<VerificationResult> => {
  const [inline, threaded] = [false, true].map((digestThread) =>
    verifyOnce(path, digestThread, anchor),
  )
  const result = await (inline as Promise<VerificationResult>)
  const withThread = await (threaded as Promise<VerificationResult>)
  if (JSON.stringify(withThread) !== JSON.stringify(result)) {
    throw new Error(`the digest thread changed the verdict: ${JSON.stringify(withThread)}`)
  }
  return result
}

const verifyOnce = async (
  path: string,
  digestThread: boolean,
  anchor?: VerificationAnchor,
): Promise<VerificationResult> => {
  const store: EventStore = openSqliteEventStore({ path })
  try {
    const facts = readSqliteLogFacts(path)
    return await verifyLedger({
      store,
      facts,
      digestThread,
      ...(anchor === undefined ? {} : { anchor }),
    })
  } finally {
    await store.close()
  }
}

/** Runs statements on the file directly, as someone with write access to it could. */
export const tamper = <T>(path: string, change: (db: Database.Database) => T): T => {
  const db = new Database(path)
  try {
    return change(db)
  } finally {
    db.close()
  }
}

export interface Row {
  position: number
  stream_id: string
  revision: number
  event_id: string
  type: string
  data: string
  metadata: string
}

export const rowsWhere = (db: Database.Database, where: string, ...params: unknown[]): Row[] =>
  db.prepare(`SELECT * FROM events WHERE ${where} ORDER BY position`).all(...params) as Row[]

/**
 * What a careful forger does after changing an event: recompute its hash and the hash of every
 * later event of its stream, so that the stream's chain is whole again.
 */
export const rehashStream = (db: Database.Database, streamId: string): void => {
  const rows = db
    .prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY revision')
    .all(streamId) as Row[]
  let previousHash = '0'.repeat(64)
  for (const row of rows) {
    const { hash: _old, ...metadata } = JSON.parse(row.metadata) as Record<string, unknown>
    const unhashed = { ...metadata, previousHash } as never
    const hash = hashEvent({
      streamId: row.stream_id,
      revision: row.revision,
      eventId: row.event_id,
      type: row.type,
      data: JSON.parse(row.data),
      metadata: unhashed,
    })
    const updated = JSON.stringify({ ...metadata, previousHash, hash })
    db.prepare('UPDATE events SET metadata = ? WHERE position = ?').run(updated, row.position)
    previousHash = hash
  }
}

/** Moves the row at `from` to the free position `to` (positions are the table's primary key). */
export const movePosition = (db: Database.Database, from: number, to: number): void => {
  db.prepare('UPDATE events SET position = ? WHERE position = ?').run(to, from)
}

export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true })
