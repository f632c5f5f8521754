import { existsSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import pino from 'pino'
import { buildEventToAppend } from '../../src/audit/chain'
import { zeroHash } from '../../src/audit/hash'
import { rebuildProjections } from '../../src/projections/rebuild'
import type { RecordedEvent, StreamAppend } from '../../src/store/port'
import { openSqliteEventStore, type SqliteEventStore } from '../../src/store/sqlite'
import { simCommand, Simulation } from './simulation'

/**
 * Rebuild speed against the raw speed of reading the log: `npx tsx
 * test/projections/rebuild-bench.ts [events] [dir]`. Writes a log of that many events from the
 * domain's deciders once (kept in `dir`, ./data/bench by default), then times a plain read of
 * every event with its JSON parsed (the store's `iterateAll`) and a full rebuild, and prints
 * both rates (per CPU second) and their ratio. The target is a ratio of 0.6 or more at a million
 * events.
 */

const eventsWanted = Number(process.argv[2] ?? 1_000_000)
const dir = process.argv[3] ?? join('data', 'bench')
const logger = pino({ level: 'silent' })

/** Simulated seasons of this many commands each: the simulation slows as a season grows. */
const commandsPerSeason = 5_000

/**
 * A log of seasons from the domain's deciders, each with its own programme and merchants, with
 * the idempotency record every accepted command writes in the service.
 */
const simulate = (): RecordedEvent[] => {
  const log: RecordedEvent[] = []
  for (let season = 0; log.length < eventsWanted; season++) {
    const simulation = new Simulation(100_000_000, 5_000, `s${season}-`)
    const commands = fc.sample(simCommand, { numRuns: commandsPerSeason, seed: season })
    for (const command of commands) simulation.run(command, true)
    log.push(...simulation.log)
  }
  return log.slice(0, eventsWanted)
}

/** A UUID made of 32 hex digits, as the store wants event ids. */
const uuidOf = (hex: string): string =>
  [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `8${hex.slice(17, 20)}`,
    hex.slice(20),
  ].join('-')

/** Appends the simulated log with fresh hash chains, a thousand events per call. */
const write = async (store: SqliteEventStore, log: readonly RecordedEvent[]) => {
  const tips = new Map<string, string>()
  for (let start = 0; start < log.length; start += 1_000) {
    const byStream = new Map<string, StreamAppend>()
    for (const e of log.slice(start, start + 1_000)) {
      const built = buildEventToAppend({
        ...e.metadata,
        streamId: e.streamId,
        revision: e.revision,
        previousHash: tips.get(e.streamId) ?? zeroHash,
        eventId: uuidOf(e.eventId),
        type: e.type,
        data: e.data,
      })
      tips.set(e.streamId, built.metadata.hash)
      const append = byStream.get(e.streamId)
      byStream.set(e.streamId, {
        streamId: e.streamId,
        expectedRevision: 'any',
        events: [...(append?.events ?? []), built],
      })
    }
    await store.appendToStreams([...byStream.values()])
  }
}

/**
 * Times work by the CPU this process used, in milliseconds: the build machines are shared, and
 * wall time there measures the neighbours as much as the code.
 */
const timed = async <T>(work: () => Promise<T> | T): Promise<[T, number]> => {
  const started = process.cpuUsage()
  const result = await work()
  const used = process.cpuUsage(started)
  return [result, (used.user + used.system) / 1000]
}

const main = async () => {
  const storePath = join(dir, `ledger-${eventsWanted}.db`)
  const fresh = !existsSync(storePath)
  const store = openSqliteEventStore({ path: storePath, logger })
  if (fresh) {
    const [log, simulateMs] = await timed(simulate)
    const [, writeMs] = await timed(() => write(store, log))
    console.log({ simulateMs, writeMs })
  }

  const [count, rawMs] = await timed(() => {
    let n = 0
    for (const _ of store.iterateAll(0)) n += 1
    return n
  })
  const [rebuilt, rebuildMs] = await timed(() =>
    rebuildProjections({ store, path: join(dir, `projections-${eventsWanted}.db`) }),
  )
  await store.close()
  const rate = (ms: number) => Math.round((count / ms) * 1000)
  console.log({
    events: count,
    rawEventsPerS: rate(rawMs),
    rebuildEventsPerS: rate(rebuildMs),
    ratio: Number((rawMs / rebuildMs).toFixed(2)),
    position: rebuilt.position,
  })
}

// A directory run of tap would start this too; a benchmark is never a test, so it stays out.
if (process.env.TAP === undefined) void main()
