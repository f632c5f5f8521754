import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import {
  sqliteBusyTimeoutMs,
  streamRevisionCacheEntriesMax,
  streamTipsPerStatementMax,
} from '../limits'
import {
  checkExpectation,
  InvalidAppend,
  revisionWhenHolds,
  type CurrentRevision,
} from './expectation'
import { ConcurrencyConflict, StoreCorrupted, type AppendResult, type StreamAppend } from './port'

/**
 * The write side of the embedded store: the file's tables and the group commit that appends to
 * them. It runs on its own thread in the service (`sqlite-writer-thread.ts`), so that inserts,
 * COMMIT and the fsyncs of WAL checkpoints never hold up the event loop that serves requests;
 * for an in-memory store, which only one connection can see, it runs on the caller's thread.
 */

/** Bumped when the tables change, so that an old binary never writes to a newer file. */
const schemaVersion = 1

/**
 * The log. Exported so that the benchmark's raw inserts go into exactly this table, with its
 * indexes.
 */
export const eventsTableSql = `
  CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    UNIQUE (stream_id, revision)
  );
`

/**
 * `streams` records the revision each stream reached. Appends do not read it (the UNIQUE
 * (stream_id, revision) index answers a stream's revision, even for rows of the transaction in
 * progress); it is written once per stream per group commit, at the end of the transaction, so
 * that the audit can compare it with the log and see a tail cut from a stream.
 */
const schemaSql = `${eventsTableSql}
  CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL
  ) WITHOUT ROWID;
`

const upsertStreamsSql = (rows: number): string =>
  'INSERT INTO streams (stream_id, revision) VALUES ' +
  Array.from({ length: rows }, () => '(?, ?)').join(', ') +
  ' ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision'

export const eventColumns = 'position, stream_id, revision, event_id, type, data, metadata'

/** A row read in raw mode: the columns of `eventColumns`, in order. */
export type EventRow = [number, string, number, string, string, string, string]

/**
 * A stream's entry of a call as the writer inserts it: each event's data and metadata already
 * written as JSON by the caller's thread, when the call is made. Strings cross to the writer
 * thread as a copy of their bytes, where objects would be walked and rebuilt there, and the
 * text stored is what the caller passed, whatever the caller does with its objects afterwards.
 */
export interface RowAppend extends Omit<StreamAppend, 'events'> {
  readonly events: readonly EventRowToInsert[]
}

export interface EventRowToInsert {
  readonly eventId: string
  readonly type: string
  readonly dataJson: string
  readonly metadataJson: string
}

/**
 * Throws (as JSON.stringify does, on a BigInt or a cycle) before anything is queued. Data that
 * JSON has no text for (a function, a symbol) is refused here too: as a missing column it would
 * fail inside the commit, where it looks like a conflict that a caller might retry.
 */
export const toRowAppends = (appends: readonly StreamAppend[]): RowAppend[] =>
  appends.map((append) => ({
    ...append,
    events: append.events.map((event) => ({
      eventId: event.eventId,
      type: event.type,
      dataJson: jsonOf(append.streamId, event.data ?? null),
      metadataJson: jsonOf(append.streamId, event.metadata),
    })),
  }))

const jsonOf = (streamId: string, value: unknown): string => {
  const json = JSON.stringify(value) as string | undefined
  if (json === undefined) throw new InvalidAppend(streamId, 'event data and metadata are JSON')
  return json
}

/**
 * A call this batch wrote, as opposed to a retry recognised as written before: its events went
 * to consecutive positions from `firstPosition`, in the order of the call.
 */
export interface WrittenResult extends AppendResult {
  readonly firstPosition: number
}

/** What one call of a batch came to: its result, or the conflict that refused it. */
export type Outcome = AppendResult | WrittenResult | ConcurrencyConflict

/**
 * Opens the file in WAL mode with `synchronous=FULL`, so a commit that returned is in the file
 * and survives a killed process or a power cut, and creates or checks the tables.
 */
export const openDatabase = (
  path: string,
  options: { readonly fileMustExist?: boolean } = {},
): Database.Database => {
  const fileMustExist = options.fileMustExist ?? false
  if (path !== ':memory:' && !fileMustExist) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { timeout: sqliteBusyTimeoutMs, fileMustExist })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > schemaVersion) {
    db.close()
    throw new StoreCorrupted(0, `schema version ${version} is newer than ${schemaVersion}`)
  }
  db.exec(schemaSql)
  if (version !== schemaVersion) db.pragma(`user_version = ${schemaVersion}`)
  return db
}

/** Also for the store's log line, so that it names the version it opened. */
export { schemaVersion }

/**
 * A call with a single write needs no savepoint: SQLite undoes a failed statement by itself,
 * so a call that writes one event either lands whole or not at all.
 */
const needsSavepoint = (appends: readonly RowAppend[]): boolean =>
  appends.length > 1 || (appends[0]?.events.length ?? 0) > 1

const isConstraintViolation = (error: unknown): boolean =>
  error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')

/**
 * Commits batches of calls, each call atomic through a savepoint, the batch in one
 * transaction and one fsync. Each call keeps its own outcome: a conflict fails that call only.
 */
export class SqliteWriter {
  /**
   * Current revisions of streams this connection has seen, trusted while no other connection
   * writes to the file: `PRAGMA data_version` changes when one does, and the cache is emptied.
   */
  private readonly revisions = new Map<string, number>()
  private dataVersion = -1

  /** The revision each stream reached in the batch being committed, for the streams table. */
  private readonly batchTips = new Map<string, number>()

  private readonly selectRevision: Database.Statement<[string], number | null>
  private readonly insertEvent: Database.Statement<[string, number, string, string, string, string]>
  private readonly selectById: Database.Statement<[string], EventRow>
  private readonly selectHead: Database.Statement<[], number>
  private readonly selectHash: Database.Statement<[string, number], string | undefined>
  private readonly upsertStream: Database.Statement<[string, number]>
  private readonly upsertStreams: Database.Statement<(string | number)[]>
  private readonly selectDataVersion: Database.Statement<[], number>
  private readonly commitBatch: Database.Transaction<
    (batch: readonly (readonly RowAppend[])[]) => Outcome[]
  >
  private readonly applyInSavepoint: Database.Transaction<
    (appends: readonly RowAppend[]) => AppendResult | WrittenResult
  >

  constructor(private readonly db: Database.Database) {
    this.selectRevision = db
      .prepare<[string], number | null>('SELECT MAX(revision) FROM events WHERE stream_id = ?')
      .pluck()
    this.insertEvent = db.prepare(
      'INSERT INTO events (stream_id, revision, event_id, type, data, metadata) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
    )
    this.selectById = db
      .prepare<[string], EventRow>(`SELECT ${eventColumns} FROM events WHERE event_id = ?`)
      .raw(true)
    this.selectHead = db
      .prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events')
      .pluck()
    this.upsertStream = db.prepare(upsertStreamsSql(1))
    this.upsertStreams = db.prepare(upsertStreamsSql(streamTipsPerStatementMax))
    this.selectHash = db
      .prepare<[string, number], string | undefined>(
        "SELECT json_extract(metadata, '$.hash') FROM events WHERE stream_id = ? AND revision = ?",
      )
      .pluck()
    this.selectDataVersion = db.prepare<[], number>('PRAGMA data_version').pluck()
    this.commitBatch = db.transaction((batch) => this.applyBatch(batch))
    this.applyInSavepoint = db.transaction((appends) => this.apply(appends))
  }

  /**
   * Commits the calls in the order given and returns each call's outcome. Throws when the batch
   * as a whole failed (disk full, I/O error): then none of it was written.
   */
  commit(batch: readonly (readonly RowAppend[])[]): Outcome[] {
    try {
      return this.commitBatch.immediate(batch)
    } catch (error) {
      this.revisions.clear()
      throw error
    }
  }

  /**
   * Runs inside `BEGIN IMMEDIATE`: no other connection can write until COMMIT, so the revision
   * cache, once checked against `data_version`, holds for the whole batch.
   */
  private applyBatch(batch: readonly (readonly RowAppend[])[]): Outcome[] {
    const dataVersion = this.selectDataVersion.get() as number
    if (dataVersion !== this.dataVersion || this.revisions.size > streamRevisionCacheEntriesMax) {
      this.revisions.clear()
      this.dataVersion = dataVersion
    }
    this.batchTips.clear()
    const outcomes = batch.map((appends) => this.applyGuarded(appends))
    this.writeStreamTips()
    return outcomes
  }

  /** Several streams per statement, so that the table costs few statements per group commit. */
  private writeStreamTips(): void {
    const rows: (string | number)[] = []
    for (const [streamId, revision] of this.batchTips) {
      rows.push(streamId, revision)
      if (rows.length === streamTipsPerStatementMax * 2) {
        this.upsertStreams.run(...rows)
        rows.length = 0
      }
    }
    for (let index = 0; index < rows.length; index += 2) {
      this.upsertStream.run(rows[index] as string, rows[index + 1] as number)
    }
  }

  /**
   * Applies one call. A conflict fails this call only; a retried call is recognised here, off
   * the hot path, after the call's own writes were undone. Any other error (disk full, I/O)
   * escapes and fails the whole batch.
   */
  private applyGuarded(appends: readonly RowAppend[]): Outcome {
    try {
      const result = needsSavepoint(appends) ? this.applyInSavepoint(appends) : this.apply(appends)
      this.rememberRevisions(appends, result.nextRevisions)
      return result
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict) && !isConstraintViolation(error)) throw error
      return this.recogniseRetry(appends) ?? this.explainConflict(appends)
    }
  }

  private apply(appends: readonly RowAppend[]): AppendResult | WrittenResult {
    const nextRevisions: number[] = []
    let firstPosition = 0
    let position = 0
    for (let index = 0; index < appends.length; index += 1) {
      const { streamId, events } = appends[index] as RowAppend
      let revision = this.revisionBefore(appends, index, nextRevisions)
      this.checkLastHash(appends[index] as RowAppend, revision)
      for (const event of events) {
        revision += 1
        const { eventId, type, dataJson, metadataJson } = event
        const info = this.insertEvent.run(streamId, revision, eventId, type, dataJson, metadataJson)
        position = info.lastInsertRowid as number
        if (firstPosition === 0) firstPosition = position
      }
      nextRevisions.push(revision)
    }
    if (position === 0) return { position: this.selectHead.get() as number, nextRevisions }
    return { position, nextRevisions, firstPosition }
  }

  /** Refuses, as a conflict, an append whose stream's last event has another hash than said. */
  private checkLastHash(append: RowAppend, currentRevision: number): void {
    if (append.expectedLastHash === undefined || currentRevision < 0) return
    const lastHash = this.selectHash.get(append.streamId, currentRevision)
    if (lastHash !== append.expectedLastHash) {
      throw new ConcurrencyConflict(append.streamId, append.expectedRevision, currentRevision)
    }
  }

  /**
   * The revision after which a stream's events go, once its expectation holds, counting what
   * the call's earlier entries did to the same stream. `no_stream` on a stream never seen needs
   * no lookup: UNIQUE (stream_id, revision) refuses a second revision 0.
   */
  private revisionBefore(appends: readonly RowAppend[], index: number, done: number[]): number {
    const { streamId, expectedRevision, events } = appends[index] as RowAppend
    let earlier = -1
    for (let i = 0; i < index; i += 1) {
      if ((appends[i] as RowAppend).streamId === streamId) earlier = i
    }
    if (earlier < 0 && expectedRevision === 'no_stream' && events.length > 0) {
      if (!this.revisions.has(streamId)) return -1
    }
    const known = earlier < 0 ? this.currentRevision(streamId) : (done[earlier] as number)
    const current = known === -1 ? undefined : known
    checkExpectation(streamId, expectedRevision, current)
    return current ?? -1
  }

  /**
   * Notes a call's revisions for the streams table and keeps cached ones current. Streams
   * enter the cache only when a lookup was needed: a stream created once and never appended to
   * again (most vouchers) costs no memory, while a hot stream (a programme's budget) is looked
   * up once and then remembered.
   */
  private rememberRevisions(appends: readonly RowAppend[], nextRevisions: readonly number[]) {
    for (let index = 0; index < appends.length; index += 1) {
      const { streamId, events } = appends[index] as RowAppend
      if (events.length === 0) continue
      const revision = nextRevisions[index] as number
      this.batchTips.set(streamId, revision)
      if (this.revisions.has(streamId)) this.revisions.set(streamId, revision)
    }
  }

  private currentRevision(streamId: string): CurrentRevision {
    const cached = this.revisions.get(streamId)
    if (cached !== undefined) return cached
    const stored = this.selectRevision.get(streamId) ?? undefined
    if (stored !== undefined) this.revisions.set(streamId, stored)
    return stored
  }

  /**
   * EventStoreDB's idempotent append: when every event of the call is already recorded, in
   * its stream, at consecutive revisions starting where the call expected, the call already
   * happened and resolves with what it produced then. Anything else is not a retry.
   */
  private recogniseRetry(appends: readonly RowAppend[]): AppendResult | undefined {
    const nextRevisions: number[] = []
    let position = 0
    for (const append of appends) {
      let revision = revisionWhenHolds(append.expectedRevision)
      if (append.events.length === 0) {
        nextRevisions.push(revision ?? this.selectRevision.get(append.streamId) ?? -1)
        continue
      }
      for (const event of append.events) {
        const row = this.selectById.get(event.eventId)
        if (row === undefined || row[1] !== append.streamId) return undefined
        if (revision !== undefined && row[2] !== revision + 1) return undefined
        revision = row[2]
        position = Math.max(position, row[0])
      }
      nextRevisions.push(revision as number)
    }
    return position === 0 ? undefined : { position, nextRevisions }
  }

  /**
   * Names the stream that refused a call whose writes were undone: the first whose expectation
   * fails, counting the call's earlier streams, else the first holding an event id already
   * recorded elsewhere.
   */
  private explainConflict(appends: readonly RowAppend[]): ConcurrencyConflict {
    const simulated = new Map<string, number>()
    for (const { streamId, expectedRevision, events } of appends) {
      const current = simulated.get(streamId) ?? this.selectRevision.get(streamId) ?? undefined
      const actual = current ?? 'no_stream'
      if (events.some((event) => this.selectById.get(event.eventId) !== undefined)) {
        return new ConcurrencyConflict(streamId, expectedRevision, actual)
      }
      try {
        checkExpectation(streamId, expectedRevision, current)
      } catch (conflict) {
        return conflict as ConcurrencyConflict
      }
      if (events.length > 0) simulated.set(streamId, (current ?? -1) + events.length)
    }
    const first = appends[0] as RowAppend
    const current = this.selectRevision.get(first.streamId) ?? undefined
    return new ConcurrencyConflict(first.streamId, first.expectedRevision, current ?? 'no_stream')
  }
}
