import { randomUUID } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { buildStreamEvents } from '../src/audit/chain'
import { zeroHash } from '../src/audit/hash'
import type { EventToAppend, StreamAppend } from '../src/store/port'
import { openSqliteEventStore, type SqliteEventStore } from '../src/store/sqlite'
import { eventsTableSql } from '../src/store/sqlite-writer'
import {
  appendTransactionSizes,
  appendTransactionsPerSegment,
  repeatCount,
  scratchDir,
} from './settings'
import { median, perSecond, progress } from './stats'

/**
 * Durable appends through the store against raw better-sqlite3 inserts of the same rows, in the
 * same transaction sizes, with the same durability (WAL, synchronous FULL) on the same disk.
 *
 * The store is measured two ways, because it can fill a transaction two ways:
 * - `grouped`: N concurrent `appendToStreams` calls of one event each, every one to a new
 *   stream, as purchases arrive; the store's group commit puts them in one transaction. This is
 *   how the service uses it, and the headline ratio.
 * - `single`: one call with N events on one stream.
 * The raw side inserts exactly the rows the store writes (same table, same indexes), serialising
 * data and metadata with JSON.stringify inside the timed loop, as the store must.
 *
 * The disk's fsync rate swings widely on this shared machine, so the four writers (raw and
 * store, for each way) take turns transaction by transaction: a slow spell slows all of them.
 */

export type AppendMode = 'grouped' | 'single'

export interface AppendFigure {
  readonly transactionSize: number
  readonly rawGroupedRowsPerSecond: number
  readonly groupedRowsPerSecond: number
  readonly rawSingleRowsPerSecond: number
  readonly singleRowsPerSecond: number
  /** Median over segments of store/raw, each segment's pair measured side by side. */
  readonly groupedRatio: number
  readonly singleRatio: number
}

export interface AppendResults {
  readonly figures: readonly AppendFigure[]
  /** The lowest grouped ratio over the transaction sizes: every size must reach the target. */
  readonly appendRatio: number
}

interface Row {
  readonly streamId: string
  readonly revision: number
  readonly event: EventToAppend
}

/** Rows per second of each writer in one segment. */
interface SegmentRates {
  readonly rawGrouped: number
  readonly grouped: number
  readonly rawSingle: number
  readonly single: number
}

export const benchAppends = async (): Promise<AppendResults> => {
  mkdirSync(scratchDir, { recursive: true })
  const figures: AppendFigure[] = []
  for (const size of appendTransactionSizes) {
    const segments: SegmentRates[] = []
    for (let segment = 0; segment < repeatCount; segment += 1) {
      segments.push(await measureSegment(size, appendTransactionsPerSegment[size] as number))
    }
    const figure = figureOf(size, segments)
    figures.push(figure)
    progress(
      `appends x${size}: raw ${figure.rawGroupedRowsPerSecond.toFixed(0)}/s, ` +
        `grouped ${figure.groupedRowsPerSecond.toFixed(0)}/s ` +
        `(${figure.groupedRatio.toFixed(2)}), ` +
        `single ${figure.singleRowsPerSecond.toFixed(0)}/s (${figure.singleRatio.toFixed(2)})`,
    )
  }
  return { figures, appendRatio: Math.min(...figures.map((figure) => figure.groupedRatio)) }
}

const figureOf = (size: number, segments: readonly SegmentRates[]): AppendFigure => ({
  transactionSize: size,
  rawGroupedRowsPerSecond: median(segments.map((s) => s.rawGrouped)),
  groupedRowsPerSecond: median(segments.map((s) => s.grouped)),
  rawSingleRowsPerSecond: median(segments.map((s) => s.rawSingle)),
  singleRowsPerSecond: median(segments.map((s) => s.single)),
  groupedRatio: median(segments.map((s) => s.grouped / s.rawGrouped)),
  singleRatio: median(segments.map((s) => s.single / s.rawSingle)),
})

/** One segment: four fresh files, their writers taking turns one transaction at a time. */
const measureSegment = async (size: number, transactionCount: number): Promise<SegmentRates> => {
  const eventCount = size * transactionCount
  const groupedRows = rowsOf('grouped', size, eventCount)
  const singleRows = rowsOf('single', size, eventCount)
  const rawGrouped = openRaw()
  const rawSingle = openRaw()
  const grouped = await openStore()
  const single = await openStore()
  const elapsedMs = { rawGrouped: 0, grouped: 0, rawSingle: 0, single: 0 }
  try {
    for (let start = 0; start < eventCount; start += size) {
      const groupedBatch = groupedRows.slice(start, start + size)
      const singleBatch = singleRows.slice(start, start + size)
      elapsedMs.rawGrouped += rawGrouped.insert(groupedBatch)
      elapsedMs.grouped += await appendGrouped(grouped.store, groupedBatch)
      elapsedMs.rawSingle += rawSingle.insert(singleBatch)
      elapsedMs.single += await appendSingle(single.store, singleBatch)
    }
  } finally {
    rawGrouped.close()
    rawSingle.close()
    await grouped.close()
    await single.close()
  }
  return {
    rawGrouped: perSecond(eventCount, elapsedMs.rawGrouped),
    grouped: perSecond(eventCount, elapsedMs.grouped),
    rawSingle: perSecond(eventCount, elapsedMs.rawSingle),
    single: perSecond(eventCount, elapsedMs.single),
  }
}

/** A redemption-sized event: the most frequent kind of write after purchases. */
const eventInput = (index: number, recordedAt: string) => ({
  eventId: randomUUID(),
  type: 'VoucherRedeemed',
  data: {
    redemptionId: `r-${index}`,
    voucherId: `V${String(index).padStart(19, '0')}`,
    kind: 'purchased',
    programmeId: 'P2026',
    merchantId: 'M042',
    amountCents: 1_250,
    remainingCents: 3_750,
  },
  occurredAt: recordedAt,
  recordedAt,
  commandId: `redemption:r-${index}`,
  causationId: `redemption:r-${index}`,
  correlationId: randomUUID(),
  actor: 'operator:0123456789ab',
})

/**
 * The rows of one measurement, hashed and chained before the clock starts: grouped rows each
 * open a stream of their own, single rows follow each other on one stream.
 */
const rowsOf = (mode: AppendMode, size: number, eventCount: number): Row[] => {
  const recordedAt = new Date().toISOString()
  const tag = randomUUID().slice(0, 8)
  if (mode === 'grouped') {
    return Array.from({ length: eventCount }, (_, index) => {
      const streamId = `voucher-g${size}-${tag}-${index}`
      const stream = { streamId, nextRevision: 0, previousHash: zeroHash }
      const [event] = buildStreamEvents(stream, [eventInput(index, recordedAt)])
      return { streamId, revision: 0, event: event as EventToAppend }
    })
  }
  const streamId = `voucher-s${size}-${tag}`
  const inputs = Array.from({ length: eventCount }, (_, index) => eventInput(index, recordedAt))
  const events = buildStreamEvents({ streamId, nextRevision: 0, previousHash: zeroHash }, inputs)
  return events.map((event, revision) => ({ streamId, revision, event }))
}

const scratchPath = (name: string): string => join(scratchDir, `${name}-${randomUUID()}.db`)

const removeDatabase = (path: string): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
}

/** A raw writer: `insert` runs one transaction of rows and answers its milliseconds. */
const openRaw = () => {
  const path = scratchPath('raw')
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  // The events table exactly as the store creates it, so raw rows cost the same.
  db.exec(eventsTableSql)
  const insert = db.prepare(
    'INSERT INTO events (stream_id, revision, event_id, type, data, metadata) ' +
      'VALUES (?, ?, ?, ?, ?, ?)',
  )
  const insertMany = db.transaction((rows: readonly Row[]) => {
    for (const { streamId, revision, event } of rows) {
      const data = JSON.stringify(event.data)
      const metadata = JSON.stringify(event.metadata)
      insert.run(streamId, revision, event.eventId, event.type, data, metadata)
    }
  })
  return {
    insert: (rows: readonly Row[]): number => {
      const startMs = performance.now()
      insertMany(rows)
      return performance.now() - startMs
    },
    close: (): void => {
      db.close()
      removeDatabase(path)
    },
  }
}

/**
 * A store on a fresh file, its writer thread started by one append before any timing: the
 * thread starts once in the life of a service, not once per transaction measured here.
 */
const openStore = async () => {
  const path = scratchPath('store')
  const store = openSqliteEventStore({ path })
  const [warmUp] = rowsOf('grouped', 0, 1)
  await store.appendToStreams([appendOf([warmUp as Row])])
  return {
    store,
    close: async (): Promise<void> => {
      await store.close()
      removeDatabase(path)
    },
  }
}

/** N concurrent calls of one event each, which the store commits together; milliseconds. */
const appendGrouped = async (store: SqliteEventStore, rows: readonly Row[]): Promise<number> => {
  const startMs = performance.now()
  await Promise.all(rows.map((row) => store.appendToStreams([appendOf([row])])))
  return performance.now() - startMs
}

/** One call with all the rows, on one stream; milliseconds. */
const appendSingle = async (store: SqliteEventStore, rows: readonly Row[]): Promise<number> => {
  const startMs = performance.now()
  await store.appendToStreams([appendOf(rows)])
  return performance.now() - startMs
}

const appendOf = (rows: readonly Row[]): StreamAppend => {
  const first = rows[0] as Row
  return {
    streamId: first.streamId,
    expectedRevision: first.revision === 0 ? 'no_stream' : first.revision - 1,
    events: rows.map((row) => row.event),
  }
}
