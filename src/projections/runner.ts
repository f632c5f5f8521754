import type { Logger } from 'pino'
import { allProjections, type StoredProjection } from '../../projections'
import type { EventStore, RecordedEvent, Subscription } from '../store/port'
import { ProjectionDocStore } from './doc-store'
import { docWriterFor } from './doc-writer'
import { ProjectionEngine, resetOutdatedProjections, type CommitBatch } from './engine'
import {
  headRefreshIntervalMs,
  liveCommitEventsMax,
  liveCommitIntervalMs,
  onDemandProjections,
  positionWaitMsMax,
} from './limits'
import { readModelQueries, type ReadModelQueries } from './queries'

/**
 * The projection runner: one catch-up subscription to the whole log from the projections'
 * checkpoint, every page applied to all projections in memory, and what was applied committed
 * with the new checkpoint in one SQLite transaction, at once when a read waits for it, else at
 * most `liveCommitIntervalMs` later. Reads answer at the committed position, from a bounded
 * cache of documents read through from that file, and can wait for a position
 * (read-your-writes). A projection whose version changed is rebuilt from position 0 at start
 * while the others wait for it at their checkpoint.
 *
 * A batch that fails (a broken invariant, a full disk) commits nothing and stops the runner:
 * `failure()` says why and the lag grows, so readiness fails. It does not retry by itself, so a
 * transient SQLite error costs a restart of the service.
 */
export interface ProjectionRunnerOptions {
  readonly store: EventStore
  /** The projections' SQLite file (`./data/projections.db` in the service), or `:memory:`. */
  readonly path: string
  readonly logger: Logger
  /** Defaults to every read model; tests may run fewer. */
  readonly projections?: readonly StoredProjection[]
  /** Defaults to `liveCommitIntervalMs`; tests make it long to see who commits. */
  readonly commitIntervalMs?: number
}

/** The running read side: queries, positions, health, and stopping. */
export interface ProjectionRunner extends ReadModelQueries {
  /** The ledger position the read models reflect. */
  position(): number
  /** Resolves true once the read models reflect `position`, false after `timeoutMs`. */
  waitForPosition(position: number, timeoutMs: number): Promise<boolean>
  /** Events appended to the log and not yet reflected, as of the last look at the head. */
  lagEvents(): number
  /** Why the runner stopped applying events, if it did; the readiness check reports it. */
  failure(): Error | undefined
  stop(): Promise<void>
}

interface Waiter {
  readonly position: number
  readonly resolve: (reached: boolean) => void
  readonly timer: NodeJS.Timeout
}

/** Callers waiting for the read models to reach a position, each until its own timeout. */
class PositionWaiters {
  private waiters: Waiter[] = []
  private closed = false

  constructor(private readonly reached: () => number) {}

  wait(position: number, timeoutMs: number): Promise<boolean> {
    if (this.reached() >= position) return Promise.resolve(true)
    if (this.closed) return Promise.resolve(false)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer)
        resolve(this.reached() >= position)
      }, timeoutMs)
      this.waiters.push({ position, resolve, timer })
    })
  }

  /** Whether someone waits for a position at or before `position`. */
  waitsFor(position: number): boolean {
    return this.waiters.some((waiter) => waiter.position <= position)
  }

  /** Answers those whose position is reached; on close, everyone, reached or not. */
  settle(closing = false): void {
    this.closed ||= closing
    const position = this.reached()
    const waiting: Waiter[] = []
    for (const waiter of this.waiters) {
      if (waiter.position > position && !this.closed) {
        waiting.push(waiter)
        continue
      }
      clearTimeout(waiter.timer)
      waiter.resolve(waiter.position <= position)
    }
    this.waiters = waiting
  }
}

/** Opens the projection store, rebuilds outdated projections, and starts catching up. */
export const startProjections = (options: ProjectionRunnerOptions): ProjectionRunner => {
  const log = options.logger.child({ module: 'projection.runner' })
  const projections = options.projections ?? allProjections
  const docStore = new ProjectionDocStore(options.path)
  const reset = resetOutdatedProjections(projections, docStore)
  if (reset.length > 0) log.info({ projections: reset }, 'projection version changed, rebuilding')
  // Commits go through the doc writer: on a thread of its own for a file, so that this thread
  // only reads the file from here on.
  const docWriter = docWriterFor(options.path, docStore)
  const engine = new ProjectionEngine(projections, docStore, (projection) =>
    onDemandProjections.includes(projection.name) ? 'onDemand' : 'all',
  )
  const waiters = new PositionWaiters(() => engine.position())
  let headPosition = engine.position()
  let failed: Error | undefined

  let commitTimer: NodeJS.Timeout | undefined
  /** The commit being written, if any; `commitAgain` asks for another as soon as it ends. */
  let writing: Promise<void> | undefined
  let commitAgain = false

  /**
   * Commits what was applied; a failure stops the runner, as a failed page does. Pages applied
   * before the store failed are still committed: a failed page or commit was discarded already.
   * One commit is written at a time; what is applied meanwhile goes in the next.
   */
  const commitApplied = (): void => {
    clearTimeout(commitTimer)
    commitTimer = undefined
    if (writing !== undefined) {
      commitAgain = true
      return
    }
    const batch = engine.beginCommit()
    if (batch !== undefined) writing = writeCommit(batch)
  }

  const writeCommit = async (batch: CommitBatch): Promise<void> => {
    try {
      await docWriter.write(batch)
      engine.endCommit()
      waiters.settle()
    } catch (error) {
      engine.abortCommit()
      fail(error as Error)
    }
    writing = undefined
    if (!commitAgain || failed !== undefined) return
    commitAgain = false
    commitApplied()
  }

  /** Waits until everything applied so far is committed (or the runner failed). */
  const commitAll = async (): Promise<void> => {
    commitApplied()
    while (writing !== undefined) {
      await writing
      commitApplied()
    }
  }

  const onEvents = (events: readonly RecordedEvent[]): Promise<void> | undefined => {
    if (failed !== undefined) throw failed
    try {
      engine.apply(events)
    } catch (error) {
      engine.discard()
      throw error
    }
    const last = events[events.length - 1]
    if (last !== undefined) headPosition = Math.max(headPosition, last.position)
    const due =
      waiters.waitsFor(engine.appliedPosition()) ||
      engine.pendingEventCount() >= liveCommitEventsMax
    if (due) commitApplied()
    else commitTimer ??= setTimeout(commitApplied, options.commitIntervalMs ?? liveCommitIntervalMs)
    // While a slow write holds a full batch back, so does the subscription: staged documents
    // stay bounded by `liveCommitEventsMax` whatever the disk does.
    if (writing !== undefined && engine.pendingEventCount() >= liveCommitEventsMax) return writing
    return undefined
  }

  const fail = (error: Error): void => {
    if (failed !== undefined) return
    failed = error
    // A read waiting for a position the runner will no longer reach is answered now.
    waiters.settle(true)
    log.error({ err: error, position: engine.position() }, 'projections failed')
    void subscription.stop()
  }

  const subscription: Subscription = options.store.subscribeToAll(engine.position(), {
    onEvents,
    onError: fail,
  })
  log.info({ position: engine.position() }, 'projections started')

  const refreshHead = (): void => {
    options.store.headPosition().then(
      (head) => (headPosition = Math.max(headPosition, head)),
      () => undefined,
    )
  }
  refreshHead()
  const headTimer = setInterval(refreshHead, headRefreshIntervalMs)
  headTimer.unref()

  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    clearInterval(headTimer)
    await subscription.stop()
    await commitAll()
    waiters.settle(true)
    await docWriter.close()
    docStore.close()
    log.info({ position: engine.position() }, 'projections stopped')
  }

  return {
    ...readModelQueries(engine),
    position: () => engine.position(),
    waitForPosition: (position, timeoutMs) => {
      if (position > engine.position() && position <= engine.appliedPosition()) commitApplied()
      return waiters.wait(position, Math.min(timeoutMs, positionWaitMsMax))
    },
    lagEvents: () => Math.max(0, headPosition - engine.position()),
    failure: () => failed,
    stop: () => (stopping ??= stop()),
  }
}
