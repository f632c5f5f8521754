import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import Database from 'better-sqlite3'
import {
  StoreCorrupted,
  type EventMetadata,
  type EventStore,
  type RecordedEvent,
} from '../store/port'
import { auditReadPageSize } from './limits'

/**
 * How the audit reads the whole log: in position order, a page at a time, so memory stays flat
 * whatever the size of the log, and with a turn of the event loop between pages, so that a
 * verification or an export served over HTTP does not stall the other requests.
 */

/** A store that can also walk its log synchronously (the SQLite adapter's `iterateAll`). */
interface IterableStore {
  iterateAll(afterPosition?: number): Iterable<RecordedEvent>
}

const hasIterateAll = (store: EventStore): store is EventStore & IterableStore =>
  typeof (store as Partial<IterableStore>).iterateAll === 'function'

/**
 * Pages of the log after `afterPosition` and up to `throughPosition` included. The SQLite
 * adapter's synchronous iterator is used when there is one: it skips a promise per page, which
 * is most of the cost of a read at a million events.
 */
export async function* logPages(
  store: EventStore,
  throughPosition: number,
  afterPosition = 0,
): AsyncGenerator<readonly RecordedEvent[], void, undefined> {
  if (hasIterateAll(store)) {
    yield* syncPages(store.iterateAll(afterPosition), throughPosition)
    return
  }
  let position = afterPosition
  for (;;) {
    const page = await store.readAll(position, auditReadPageSize)
    const kept = page.filter((event) => event.position <= throughPosition)
    if (kept.length > 0) yield kept
    const last = page[page.length - 1]
    if (last === undefined || kept.length < page.length || page.length < auditReadPageSize) return
    position = last.position
  }
}

async function* syncPages(
  events: Iterable<RecordedEvent>,
  throughPosition: number,
): AsyncGenerator<readonly RecordedEvent[], void, undefined> {
  let page: RecordedEvent[] = []
  for (const event of events) {
    if (event.position > throughPosition) break
    page.push(event)
    if (page.length < auditReadPageSize) continue
    yield page
    page = []
    await yieldToEventLoop()
  }
  if (page.length > 0) yield page
}

/**
 * A recorded event with the JSON texts its data and metadata are stored as, when the reader
 * has them: the verifier then hashes the stored text instead of rebuilding it.
 */
export interface StoredEvent extends RecordedEvent {
  readonly dataText?: string
  readonly metadataText?: string
}

/**
 * What a store knows about its log beyond the events themselves, for the verifier to find
 * events removed from the end of the log or of a stream, which no hash inside the log can show.
 */
export interface LogFacts {
  /** The highest position the store ever assigned: the log must reach it. */
  readonly assignedThroughPosition: number
  /** The position of the last event in the snapshot: the log is read at least that far. */
  readonly headPosition: number
  /** Whether positions are assigned 1, 2, 3, ... with no gap, so that a gap is a lost event. */
  readonly positionsDense: boolean
  /** The last revision the store recorded for each stream. */
  streamRevisions(): Iterable<readonly [string, number]>
  /** How many streams the store recorded and the sum of their last revisions: a cheap digest. */
  streamSummary?(): { readonly streamCount: number; readonly revisionSum: number }
  /** The events themselves, read in the same snapshot as the facts, with their stored texts. */
  eventPages?(throughPosition: number): AsyncIterable<readonly StoredEvent[]>
  /** Ends the snapshot the facts were read in. */
  close(): void
}

/**
 * Facts of a SQLite store, read on a connection of its own in one read transaction, so they are
 * one snapshot: `sqlite_sequence` (AUTOINCREMENT's record of the largest position ever given
 * out, which a deleted last row does not lower) and the `streams` table of the adapter (the
 * revision each stream reached). Positions are dense because a failed or conflicting append is
 * undone with its statement or savepoint, which undoes its sequence number too. The events are
 * read in the same snapshot, as stored text, which is what makes verification fast. The
 * snapshot is a read transaction held until `close`: meanwhile SQLite cannot checkpoint the WAL
 * past it, so the WAL grows by what is appended during a verification, and shrinks after.
 *
 * Both are in the same file as the events, so whoever can rewrite the file can rewrite them as
 * well: they catch an accidental cut (a restored old copy of the WAL, a hand-run DELETE), not a
 * careful forger. Against that, only a seal hash kept outside the file helps (see `verify.ts`).
 */
export const readSqliteLogFacts = (path: string): LogFacts => {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    db.exec('BEGIN')
    const sequence = hasTable(db, 'sqlite_sequence')
      ? db
          .prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
          .pluck()
          .get()
      : undefined
    const streams = db
      .prepare<[], [string, number]>('SELECT stream_id, revision FROM streams ORDER BY stream_id')
      .raw(true)
    const headPosition = db
      .prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events')
      .pluck()
      .get()
    return {
      assignedThroughPosition: sequence ?? 0,
      headPosition: headPosition ?? 0,
      positionsDense: true,
      streamRevisions: () => streams.iterate() as Iterable<readonly [string, number]>,
      streamSummary: () => streamSummaryOf(db),
      eventPages: (throughPosition) => sqliteEventPages(db, throughPosition),
      close: () => closeSnapshot(db),
    }
  } catch (error) {
    closeSnapshot(db)
    throw error
  }
}

const streamSummaryOf = (db: Database.Database) => {
  const row = db
    .prepare<[], { streamCount: number; revisionSum: number | null }>(
      'SELECT COUNT(*) AS streamCount, SUM(revision) AS revisionSum FROM streams',
    )
    .get()
  return { streamCount: row?.streamCount ?? 0, revisionSum: row?.revisionSum ?? 0 }
}

type EventRow = [number, string, number, string, string, string, string]

async function* sqliteEventPages(
  db: Database.Database,
  throughPosition: number,
): AsyncGenerator<readonly StoredEvent[], void, undefined> {
  const select = db
    .prepare<[number, number, number], EventRow>(
      'SELECT position, stream_id, revision, event_id, type, data, metadata FROM events ' +
        'WHERE position > ? AND position <= ? ORDER BY position LIMIT ?',
    )
    .raw(true)
  let position = 0
  for (;;) {
    const rows = select.all(position, throughPosition, auditReadPageSize)
    if (rows.length === 0) return
    yield rows.map(storedEventOf)
    position = (rows[rows.length - 1] as EventRow)[0]
    await yieldToEventLoop()
  }
}

/**
 * A row of the events table. Its metadata is parsed only when read: the verifier takes what it
 * needs (the hashes) from the stored text whenever that text is canonical, and a verification
 * of a million events spends a good part of its time in JSON.parse. A row whose JSON does not
 * parse is named at its position, like any other damage.
 */
class SqliteStoredEvent implements StoredEvent {
  readonly data: unknown
  private parsedMetadata: EventMetadata | undefined

  constructor(
    readonly position: number,
    readonly streamId: string,
    readonly revision: number,
    readonly eventId: string,
    readonly type: string,
    readonly dataText: string,
    readonly metadataText: string,
  ) {
    this.data = parseStored(position, dataText)
  }

  get metadata(): EventMetadata {
    this.parsedMetadata ??= parseStored(this.position, this.metadataText) as EventMetadata
    return this.parsedMetadata
  }
}

const parseStored = (position: number, text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new StoreCorrupted(position, `stored JSON does not parse: ${String(error)}`)
  }
}

const storedEventOf = (row: EventRow): StoredEvent =>
  new SqliteStoredEvent(row[0], row[1], row[2], row[3], row[4], row[5], row[6])

const hasTable = (db: Database.Database, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
  undefined

const closeSnapshot = (db: Database.Database): void => {
  if (db.inTransaction) db.exec('COMMIT')
  db.close()
}

/** The path of a `sqlite:<path>` store, or undefined for any other kind of store. */
export const sqlitePathOf = (storeUrl: string): string | undefined =>
  storeUrl.startsWith('sqlite:') ? storeUrl.slice('sqlite:'.length) : undefined

/** The facts of the store a connection string names, for the stores that keep any. */
export const readLogFacts = (storeUrl: string): LogFacts | undefined => {
  const path = sqlitePathOf(storeUrl)
  return path === undefined || path === ':memory:' ? undefined : readSqliteLogFacts(path)
}
