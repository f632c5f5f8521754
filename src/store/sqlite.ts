import { resolve } from 'node:path'
import pino, { type Logger } from 'pino'
import Database from 'better-sqlite3'
import {
  appendBatchCallsMax,
  appendBatchEventsMax,
  recentEventsKeptMax,
  sqlitePollIntervalMs,
  storeReadPageEventsMax,
} from '../limits'
import { assertValidAppends } from './expectation'
import {
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
import { RecentEvents } from './recent-events'
import { InlineCommitter, ThreadCommitter, type Committer } from './sqlite-committer'
import {
  eventColumns,
  openDatabase,
  schemaVersion,
  SqliteWriter,
  toRowAppends,
  type EventRow,
  type Outcome,
  type RowAppend,
  type WrittenResult,
} from './sqlite-writer'

/**
 * The embedded event store: one SQLite file through better-sqlite3, in WAL mode with
 * `synchronous=FULL`, so an append that resolved is in the file and survives a killed process
 * or a power cut. Appends made close together share one transaction and one fsync (group
 * commit); each call keeps its own atomicity through a savepoint. The commits run on a writer
 * thread of their own (see `sqlite-committer.ts`), while reads use this thread's connection.
 */

/** Where the store lives and what it logs through. */
export interface SqliteEventStoreOptions {
  /** A file path (its directory is created), or `:memory:` for tests. */
  readonly path: string
  readonly logger?: Logger
  /** Refuse a file that is not there instead of creating an empty log: for a second reader. */
  readonly fileMustExist?: boolean
}

/** Opens (and creates or migrates) the store; see `SqliteEventStore` for what it offers. */
export const openSqliteEventStore = (options: SqliteEventStoreOptions): SqliteEventStore =>
  new SqliteEventStore(options)

/** Which part of the log `iterateAll` walks, beyond where it starts. */
export interface LogWalk {
  /** Only events of these types; every type when absent. */
  readonly types?: Iterable<string>
  /** No event after this position; when absent, up to the head as each page is read. */
  readonly throughPosition?: number
}

interface PendingAppend {
  readonly appends: readonly RowAppend[]
  readonly eventCount: number
  readonly resolve: (result: AppendResult) => void
  readonly reject: (error: Error) => void
}

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

/** A call's events as a read would return them, from the rows this store just wrote. */
const recordedEventsOf = (appends: readonly RowAppend[], result: WrittenResult) => {
  const events: RecordedEvent[] = []
  let position = result.firstPosition
  appends.forEach(({ streamId, events: rows }, index) => {
    let revision = (result.nextRevisions[index] as number) - rows.length
    for (const { eventId, type, dataJson, metadataJson } of rows) {
      revision += 1
      const row: EventRow = [position, streamId, revision, eventId, type, dataJson, metadataJson]
      events.push(toRecordedEvent(row))
      position += 1
    }
  })
  return events
}

const countEvents = (appends: readonly StreamAppend[]): number => {
  let count = 0
  for (const append of appends) count += append.events.length
  return count
}

/**
 * The SQLite adapter of the event store port. Beyond the port it offers `iterateAll`, a
 * synchronous walk over the whole log for the audit, which needs every row fast and in order.
 */
export class SqliteEventStore implements EventStore {
  /** The store's file as an absolute path, or `:memory:`: where another thread may open it. */
  readonly path: string
  private readonly db: Database.Database
  private readonly logger: Logger
  private readonly committer: Committer
  private readonly queue: PendingAppend[] = []
  private readonly subscriptions = new Set<SqliteSubscription>()
  private readonly recent = new RecentEvents(recentEventsKeptMax)
  private flushScheduled = false
  /** The batch being committed, if any: the next one waits for it, so appends stay in order. */
  private committing: Promise<void> | undefined
  private closed = false
  /** Settles once closed: every caller of `close` waits for the same end. */
  private closing: Promise<void> | undefined

  private readonly selectStream: Database.Statement<[string, number], EventRow>
  private readonly selectAll: Database.Statement<[number, number], EventRow>
  private readonly selectOfTypes: Database.Statement<[number, number, string, number], EventRow>
  private readonly selectHead: Database.Statement<[], number>

  constructor(options: SqliteEventStoreOptions) {
    this.logger = (options.logger ?? pino({ enabled: false })).child({ name: 'store.sqlite' })
    this.path = options.path === ':memory:' ? options.path : resolve(options.path)
    this.db = openDatabase(options.path, { fileMustExist: options.fileMustExist ?? false })
    this.committer =
      options.path === ':memory:'
        ? new InlineCommitter(new SqliteWriter(this.db))
        : new ThreadCommitter(options.path)
    this.selectStream = this.rawQuery<[string, number]>(
      `SELECT ${eventColumns} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision`,
    )
    this.selectAll = this.rawQuery<[number, number]>(
      `SELECT ${eventColumns} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    )
    // The types come as one JSON array, so a single statement serves every set of them.
    this.selectOfTypes = this.rawQuery<[number, number, string, number]>(
      `SELECT ${eventColumns} FROM events WHERE position > ? AND position <= ? ` +
        'AND type IN (SELECT value FROM json_each(?)) ORDER BY position LIMIT ?',
    )
    this.selectHead = this.db
      .prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events')
      .pluck()
    this.logger.info({ path: this.path, schemaVersion }, 'event store opened')
  }

  private rawQuery<P extends unknown[]>(sql: string): Database.Statement<P, EventRow> {
    return this.db.prepare<P, EventRow>(sql).raw(true)
  }

  appendToStreams(appends: readonly StreamAppend[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailable('append', 'store closed'))
    let rows: RowAppend[]
    try {
      assertValidAppends(appends)
      rows = toRowAppends(appends)
    } catch (error) {
      return Promise.reject(error as Error)
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ appends: rows, eventCount: countEvents(appends), resolve, reject })
      this.scheduleFlush()
    })
  }

  /**
   * A flush on the next turn of the event loop, unless one is due or a batch is being
   * committed: the calls made meanwhile then make the next batch, so the busier the store, the
   * more calls share one commit.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.committing !== undefined) return
    this.flushScheduled = true
    setImmediate(() => this.flush())
  }

  /** Commits the calls queued so far, in the order they were made, then settles them. */
  private flush(): void {
    this.flushScheduled = false
    if (this.committing !== undefined) return
    const batch = this.takeBatch()
    if (batch.length === 0) return
    this.committing = this.commit(batch)
  }

  private async commit(batch: readonly PendingAppend[]): Promise<void> {
    let outcomes: readonly (Outcome | StoreUnavailable)[]
    try {
      outcomes = await this.committer.commit(batch.map((pending) => pending.appends))
    } catch (cause) {
      const error = new StoreUnavailable('append', cause)
      outcomes = batch.map(() => error)
    }
    // The calls queued meanwhile go to the writer before this batch's callers run: the writer
    // then waits only for the message, not for the responses and projections this thread has
    // to do next.
    this.committing = undefined
    this.flush()
    batch.forEach((pending, index) => {
      const outcome = outcomes[index] as Outcome
      if (outcome instanceof Error) return pending.reject(outcome)
      if ('firstPosition' in outcome) this.recent.add(recordedEventsOf(pending.appends, outcome))
      pending.resolve({ position: outcome.position, nextRevisions: outcome.nextRevisions })
    })
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
    const kept =
      Number.isSafeInteger(afterPosition) && Number.isSafeInteger(limit)
        ? this.recent.after(afterPosition, limit)
        : undefined
    if (kept === undefined) return this.selectAll.all(afterPosition, limit).map(toRecordedEvent)
    if (kept.length === limit) return kept
    // The window may end before the file does (another writer, or a commit not answered yet).
    const last = (kept[kept.length - 1] as RecordedEvent).position
    return kept.concat(this.selectAll.all(last, limit - kept.length).map(toRecordedEvent))
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
   * the audit and for rebuilds, which need every row fast and in order: no promise per page, no
   * event-loop turn, and pages rather than one open cursor so that appends may run between two
   * `next()` calls. With `walk.types`, rows of other types are skipped inside SQLite, before
   * their JSON is copied out or parsed.
   */
  *iterateAll(afterPosition = 0, walk: LogWalk = {}): Generator<RecordedEvent, void, undefined> {
    const types = walk.types === undefined ? undefined : JSON.stringify([...walk.types])
    const through = walk.throughPosition ?? Number.MAX_SAFE_INTEGER
    let position = afterPosition
    for (;;) {
      if (this.closed) throw new StoreUnavailable('iterateAll', 'store closed')
      const rows =
        types === undefined
          ? this.selectAll.all(position, storeReadPageEventsMax)
          : this.selectOfTypes.all(position, through, types, storeReadPageEventsMax)
      for (const row of rows) {
        if (row[0] > through) return
        yield toRecordedEvent(row)
      }
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
  close(): Promise<void> {
    this.closing ??= this.closeOnce()
    return this.closing
  }

  private async closeOnce(): Promise<void> {
    this.closed = true
    while (this.committing !== undefined || this.queue.length > 0) {
      this.flush()
      await this.committing
    }
    await this.committer.close()
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
        // Reading and handling a page is synchronous work: requests are served between two
        // pages, so that catching up after a burst never holds them up for more than one.
        await new Promise((resolve) => setImmediate(resolve))
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
