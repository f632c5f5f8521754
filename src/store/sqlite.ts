import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import pino, { type Logger } from 'pino'
import {
  appendBatchCallsMax,
  appendBatchEventsMax,
  sqliteBusyTimeoutMs,
  sqlitePollIntervalMs,
  storeReadPageEventsMax,
  streamRevisionCacheEntriesMax,
  streamTipsPerStatementMax,
} from '../limits'
import {
  assertValidAppends,
  checkExpectation,
  revisionWhenHolds,
  type CurrentRevision,
} from './expectation'
import {
  ConcurrencyConflict,
  StoreCorrupted,
  StoreUnavailable,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type RecordedEvent,
  type StreamAppend,
  type Subscription,
  type SubscriptionHandler,
} from './port'

/**
 * The embedded event store: one SQLite file through better-sqlite3, in WAL mode with
 * `synchronous=FULL`, so an append that resolved is in the file and survives a killed process
 * or a power cut. Appends made close together share one transaction and one fsync (group
 * commit); each call keeps its own atomicity through a savepoint.
 */

/** Where the store lives and what it logs through. */
export interface SqliteEventStoreOptions {
  /** A file path (its directory is created), or `:memory:` for tests. */
  readonly path: string
  readonly logger?: Logger
}

/** Opens (and creates or migrates) the store; see `SqliteEventStore` for what it offers. */
export const openSqliteEventStore = (options: SqliteEventStoreOptions): SqliteEventStore =>
  new SqliteEventStore(options)

/** Bumped when the tables change, so that an old binary never writes to a newer file. */
const schemaVersion = 1

/**
 * `streams` records the revision each stream reached. Appends do not read it (the UNIQUE
 * (stream_id, revision) index answers a stream's revision, even for rows of the transaction in
 * progress); it is written once per stream per group commit, at the end of the transaction, so
 * that the audit can compare it with the log and see a tail cut from a stream.
 */
const schemaSql = `
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
  CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL
  ) WITHOUT ROWID;
`

const upsertStreamsSql = (rows: number): string =>
  'INSERT INTO streams (stream_id, revision) VALUES ' +
  Array.from({ length: rows }, () => '(?, ?)').join(', ') +
  ' ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision'

const eventColumns = 'position, stream_id, revision, event_id, type, data, metadata'

/** A row read in raw mode: the columns of `eventColumns`, in order. */
type EventRow = [number, string, number, string, string, string, string]

interface PendingAppend {
  readonly appends: readonly StreamAppend[]
  readonly eventCount: number
  readonly resolve: (result: AppendResult) => void
  readonly reject: (error: Error) => void
}

type Outcome = AppendResult | Error

/** A row as the port's event; stored JSON that does not parse is a damaged file, not a bug. */
const toRecordedEvent = (row: EventRow): RecordedEvent => {
  try {
    return {
      position: row[0],
      streamId: row[1],
      revision: row[2],
      eventId: row[3],
      type: row[4],
      data: JSON.parse(row[5]),
      metadata: JSON.parse(row[6]) as EventMetadata,
    }
  } catch (error) {
    throw new StoreCorrupted(row[0], `stored JSON does not parse: ${(error as Error).message}`)
  }
}

const countEvents = (appends: readonly StreamAppend[]): number => {
  let count = 0
  for (const append of appends) count += append.events.length
  return count
}

/**
 * A call with a single write needs no savepoint: SQLite undoes a failed statement by itself,
 * so a call that writes one event either lands whole or not at all.
 */
const needsSavepoint = (pending: PendingAppend): boolean =>
  pending.appends.length > 1 || pending.eventCount > 1

const isConstraintViolation = (error: unknown): boolean =>
  error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')

const openDatabase = (path: string): Database.Database => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { timeout: sqliteBusyTimeoutMs })
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > schemaVersion) {
    db.close()
    throw new StoreCorrupted(0, `schema version ${version} is newer than ${schemaVersion}`)
  }
  db.exec(schemaSql)
  db.pragma(`user_version = ${schemaVersion}`)
  return db
}

/**
 * The SQLite adapter of the event store port. Beyond the port it offers `iterateAll`, a
 * synchronous walk over the whole log for the audit, which needs every row fast and in order.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database
  private readonly logger: Logger
  private readonly queue: PendingAppend[] = []
  private readonly subscriptions = new Set<SqliteSubscription>()
  private flushScheduled = false
  private closed = false

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
  private readonly selectStream: Database.Statement<[string, number], EventRow>
  private readonly selectAll: Database.Statement<[number, number], EventRow>
  private readonly selectHead: Database.Statement<[], number>
  private readonly selectHash: Database.Statement<[string, number], string | undefined>
  private readonly upsertStream: Database.Statement<[string, number]>
  private readonly upsertStreams: Database.Statement<(string | number)[]>
  private readonly selectDataVersion: Database.Statement<[], number>
  private readonly commitBatch: Database.Transaction<(batch: PendingAppend[]) => Outcome[]>
  private readonly applyInSavepoint: Database.Transaction<(pending: PendingAppend) => AppendResult>

  constructor(options: SqliteEventStoreOptions) {
    this.logger = (options.logger ?? pino({ enabled: false })).child({ name: 'store.sqlite' })
    this.db = openDatabase(options.path)
    this.selectRevision = this.db
      .prepare<[string], number | null>('SELECT MAX(revision) FROM events WHERE stream_id = ?')
      .pluck()
    this.insertEvent = this.db.prepare(
      'INSERT INTO events (stream_id, revision, event_id, type, data, metadata) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
    )
    this.selectById = this.rawQuery<[string]>(
      `SELECT ${eventColumns} FROM events WHERE event_id = ?`,
    )
    this.selectStream = this.rawQuery<[string, number]>(
      `SELECT ${eventColumns} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision`,
    )
    this.selectAll = this.rawQuery<[number, number]>(
      `SELECT ${eventColumns} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    )
    this.selectHead = this.db
      .prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events')
      .pluck()
    this.upsertStream = this.db.prepare(upsertStreamsSql(1))
    this.upsertStreams = this.db.prepare(upsertStreamsSql(streamTipsPerStatementMax))
    this.selectHash = this.db
      .prepare<[string, number], string | undefined>(
        "SELECT json_extract(metadata, '$.hash') FROM events WHERE stream_id = ? AND revision = ?",
      )
      .pluck()
    this.selectDataVersion = this.db.prepare<[], number>('PRAGMA data_version').pluck()
    this.commitBatch = this.db.transaction((batch) => this.applyBatch(batch))
    this.applyInSavepoint = this.db.transaction((pending) => this.apply(pending))
    this.logger.info({ path: options.path, schemaVersion }, 'event store opened')
  }

  private rawQuery<P extends unknown[]>(sql: string): Database.Statement<P, EventRow> {
    return this.db.prepare<P, EventRow>(sql).raw(true)
  }

  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailable('append', 'store closed'))
    try {
      assertValidAppends(appends)
    } catch (error) {
      return Promise.reject(error as Error)
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ appends, eventCount: countEvents(appends), resolve, reject })
      this.scheduleFlush()
    })
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => this.flush())
  }

  /** Commits the calls queued so far, in the order they were made, then settles them. */
  private flush(): void {
    this.flushScheduled = false
    const batch = this.takeBatch()
    if (batch.length === 0) return
    let outcomes: Outcome[]
    try {
      outcomes = this.commitBatch.immediate(batch)
    } catch (cause) {
      this.revisions.clear()
      const error = new StoreUnavailable('append', cause)
      outcomes = batch.map(() => error)
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index] as Outcome
      if (outcome instanceof Error) pending.reject(outcome)
      else pending.resolve(outcome)
    })
    if (this.queue.length > 0) this.scheduleFlush()
    for (const subscription of this.subscriptions) subscription.wake()
  }

  private takeBatch(): PendingAppend[] {
    let events = 0
    let count = 0
    while (count < this.queue.length && count < appendBatchCallsMax) {
      events += (this.queue[count] as PendingAppend).eventCount
      if (count > 0 && events > appendBatchEventsMax) break
      count += 1
    }
    return this.queue.splice(0, count)
  }

  /**
   * Runs inside `BEGIN IMMEDIATE`: no other connection can write until COMMIT, so the revision
   * cache, once checked against `data_version`, holds for the whole batch.
   */
  private applyBatch(batch: PendingAppend[]): Outcome[] {
    const dataVersion = this.selectDataVersion.get() as number
    if (dataVersion !== this.dataVersion || this.revisions.size > streamRevisionCacheEntriesMax) {
      this.revisions.clear()
      this.dataVersion = dataVersion
    }
    this.batchTips.clear()
    const outcomes = batch.map((pending) => this.applyGuarded(pending))
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
  private applyGuarded(pending: PendingAppend): Outcome {
    try {
      const result = needsSavepoint(pending) ? this.applyInSavepoint(pending) : this.apply(pending)
      this.rememberRevisions(pending.appends, result.nextRevisions)
      return result
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict) && !isConstraintViolation(error)) throw error
      return this.recogniseRetry(pending.appends) ?? this.explainConflict(pending.appends)
    }
  }

  private apply(pending: PendingAppend): AppendResult {
    const { appends } = pending
    const nextRevisions: number[] = []
    let position = 0
    for (let index = 0; index < appends.length; index += 1) {
      const { streamId, events } = appends[index] as StreamAppend
      let revision = this.revisionBefore(appends, index, nextRevisions)
      this.checkLastHash(appends[index] as StreamAppend, revision)
      for (const event of events) {
        revision += 1
        const { eventId, type } = event
        const data = JSON.stringify(event.data ?? null)
        const metadata = JSON.stringify(event.metadata)
        const info = this.insertEvent.run(streamId, revision, eventId, type, data, metadata)
        position = info.lastInsertRowid as number
      }
      nextRevisions.push(revision)
    }
    if (position === 0) position = this.selectHead.get() as number
    return { position, nextRevisions }
  }

  /** Refuses, as a conflict, an append whose stream's last event has another hash than said. */
  private checkLastHash(append: StreamAppend, currentRevision: number): void {
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
  private revisionBefore(appends: readonly StreamAppend[], index: number, done: number[]): number {
    const { streamId, expectedRevision, events } = appends[index] as StreamAppend
    let earlier = -1
    for (let i = 0; i < index; i += 1) {
      if ((appends[i] as StreamAppend).streamId === streamId) earlier = i
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
  private rememberRevisions(appends: readonly StreamAppend[], nextRevisions: readonly number[]) {
    for (let index = 0; index < appends.length; index += 1) {
      const { streamId, events } = appends[index] as StreamAppend
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
  private recogniseRetry(appends: readonly StreamAppend[]): AppendResult | undefined {
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
  private explainConflict(appends: readonly StreamAppend[]): ConcurrencyConflict {
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
    const first = appends[0] as StreamAppend
    const current = this.selectRevision.get(first.streamId) ?? undefined
    return new ConcurrencyConflict(first.streamId, first.expectedRevision, current ?? 'no_stream')
  }

  readStream(streamId: string, fromRevision = 0): Promise<readonly RecordedEvent[]> {
    return this.guardRead('readStream', () =>
      this.selectStream.all(streamId, fromRevision).map(toRecordedEvent),
    )
  }

  readAll(afterPosition: number, limit: number): Promise<readonly RecordedEvent[]> {
    return this.guardRead('readAll', () => this.readAllSync(afterPosition, limit))
  }

  headPosition(): Promise<number> {
    return this.guardRead('headPosition', () => this.selectHead.get() as number)
  }

  /** SQLite reads a negative LIMIT as no limit at all, so a non-positive limit reads nothing. */
  private readAllSync(afterPosition: number, limit: number): RecordedEvent[] {
    if (!(limit > 0)) return []
    return this.selectAll.all(afterPosition, limit).map(toRecordedEvent)
  }

  private guardRead<T>(operation: string, read: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailable(operation, 'store closed'))
    try {
      return Promise.resolve(read())
    } catch (cause) {
      if (cause instanceof StoreCorrupted) return Promise.reject(cause)
      return Promise.reject(new StoreUnavailable(operation, cause))
    }
  }

  /**
   * Every event after `afterPosition`, in log order, read synchronously page by page. Built for
   * the audit (hash chain verification, exports): no promise per page, no event-loop turn, and
   * pages rather than one open cursor so that appends may run between two `next()` calls.
   */
  *iterateAll(afterPosition = 0): Generator<RecordedEvent, void, undefined> {
    let position = afterPosition
    for (;;) {
      if (this.closed) throw new StoreUnavailable('iterateAll', 'store closed')
      const rows = this.selectAll.all(position, storeReadPageEventsMax)
      for (const row of rows) yield toRecordedEvent(row)
      if (rows.length < storeReadPageEventsMax) return
      position = (rows[rows.length - 1] as EventRow)[0]
    }
  }

  subscribeToAll(afterPosition: number, handler: SubscriptionHandler): Subscription {
    const subscription = new SqliteSubscription(
      (after) => this.readAllSync(after, storeReadPageEventsMax),
      afterPosition,
      handler,
      () => this.subscriptions.delete(subscription),
    )
    this.subscriptions.add(subscription)
    subscription.start()
    return subscription
  }

  /** Commits what is queued, stops the subscriptions, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    while (this.queue.length > 0) this.flush()
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()))
    this.db.close()
    this.logger.info({}, 'event store closed')
  }
}

/**
 * A catch-up subscription over the SQLite log: reads pages from its position until it reaches
 * the head, then sleeps until this process commits or the poll interval passes (which is how
 * it sees appends of another process on the same file). It keeps the process alive until
 * stopped; `close()` of the store stops every subscription.
 */
class SqliteSubscription implements Subscription {
  private stopped = false
  private wakeUp: (() => void) | undefined
  private done: Promise<void> = Promise.resolve()

  constructor(
    private readonly readPage: (afterPosition: number) => RecordedEvent[],
    private position: number,
    private readonly handler: SubscriptionHandler,
    private readonly onEnd: () => void,
  ) {}

  /** Starts on the next microtask, so that no handler runs before `subscribeToAll` returns. */
  start(): void {
    this.done = Promise.resolve()
      .then(() => this.run())
      .finally(this.onEnd)
  }

  wake(): void {
    this.wakeUp?.()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake()
    await this.done
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        const events = this.readPage(this.position)
        if (events.length === 0) {
          await this.sleep()
          continue
        }
        await this.handler.onEvents(events)
        this.position = (events[events.length - 1] as RecordedEvent).position
      }
    } catch (error) {
      if (!this.stopped) this.handler.onError?.(error as Error)
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer)
        this.wakeUp = undefined
        resolve()
      }
      const timer = setTimeout(finish, sqlitePollIntervalMs)
      this.wakeUp = finish
    })
  }
}
