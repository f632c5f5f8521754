import { availableParallelism } from 'node:os'
import pino, { type Logger } from 'pino'
import { allProjections, type StoredProjection } from '../../projections'
import type { EventStore, RecordedEvent } from '../store/port'
import { SqliteEventStore } from '../store/sqlite'
import { ProjectionDocStore } from './doc-store'
import { ProjectionEngine, projectedEventTypes } from './engine'
import {
  rebuildCommitEventsMax,
  rebuildCommitWaitMs,
  rebuildReadPageEventsMax,
  rebuildThreadEventsMin,
  rebuildThreadProjections,
} from './limits'
import { rebuildOnThread } from './rebuild-threads'

/**
 * Rebuilds the read models from position 0: forgets their documents and checkpoints, replays
 * the log up to its head through the same engine as the live runner, and commits every
 * `rebuildCommitEventsMax` events. Documents touched many times between two commits are written
 * once, which is what makes a replay of a million events fast. Each commit carries its
 * checkpoint, so an interrupted rebuild is resumed by the runner from there, never half-applied.
 * Only the events some projection reads are read at all (`Projection.eventTypes`), and the
 * largest projections are replayed on threads of their own, each with its own commits.
 *
 * Run it while no runner has the same file open: a running service keeps recently read
 * documents in memory and its checkpoint, and would mix them with the rebuilt ones.
 */
export interface RebuildOptions {
  readonly store: EventStore
  readonly path: string
  readonly logger?: Logger
  readonly projections?: readonly StoredProjection[]
  /**
   * Whether projections of `rebuildThreadProjections` are replayed on threads of their own.
   * By default they are for an embedded store's file of `rebuildThreadEventsMin` events or more
   * on a machine with a second core. The documents are the same either way.
   */
  readonly threads?: boolean
}

/** Where a rebuild ended, how long it took, and on how many threads besides the caller's. */
export interface RebuildResult {
  /** The head of the log when the rebuild began: every projection's checkpoint now. */
  readonly position: number
  readonly durationMs: number
  readonly threadCount: number
}

/** Replays the whole log into fresh read models; see the module comment. */
export const rebuildProjections = async (options: RebuildOptions): Promise<RebuildResult> => {
  const log = (options.logger ?? pino({ level: 'silent' })).child({ module: 'projection.runner' })
  const projections = options.projections ?? allProjections
  const startedMs = Date.now()
  const docStore = new ProjectionDocStore(options.path, { commitWaitMs: rebuildCommitWaitMs })
  try {
    docStore.reset(projections)
    // Events appended from here on are left to the runner, which starts at this checkpoint.
    const head = await options.store.headPosition()
    const { here, onThreads, storePath } = placeProjections(options, projections, head)
    const threads = onThreads.map((projection) =>
      rebuildOnThread({ storePath, projectionsPath: options.path, name: projection.name, head }),
    )
    // Every thread is waited for, even when this one fails, so none writes after the return.
    await settleAll([replayProjections(options.store, docStore, here, head), ...threads])
    const result = {
      position: head,
      durationMs: Date.now() - startedMs,
      threadCount: threads.length,
    }
    log.info(result, 'projections rebuilt')
    return result
  } finally {
    docStore.close()
  }
}

/** Resolves once all have settled, or rejects then with the first failure. */
const settleAll = async (promises: readonly Promise<unknown>[]): Promise<void> => {
  for (const outcome of await Promise.allSettled(promises)) {
    if (outcome.status === 'rejected') throw outcome.reason
  }
}

/**
 * Which projections are replayed on threads of their own (see `rebuildThreadProjections`):
 * only from an embedded store's file, which a thread can open, on a machine with a second core,
 * for a log long enough to repay a thread's start, and never all of them, so that this thread
 * has some to replay too. A projection a caller built itself stays here: a thread finds
 * projections by name among `allProjections`.
 */
const placeProjections = (
  options: RebuildOptions,
  projections: readonly StoredProjection[],
  head: number,
): { here: StoredProjection[]; onThreads: StoredProjection[]; storePath: string } => {
  const storePath = options.store instanceof SqliteEventStore ? options.store.path : ':memory:'
  const threaded = (projection: StoredProjection): boolean =>
    rebuildThreadProjections.includes(projection.name) && allProjections.includes(projection)
  const useThreads =
    options.threads ??
    (storePath !== ':memory:' && head >= rebuildThreadEventsMin && availableParallelism() > 1)
  const onThreads = useThreads && storePath !== ':memory:' ? projections.filter(threaded) : []
  const here = projections.filter((projection) => !onThreads.includes(projection))
  return here.length === 0
    ? { here: projections.slice(), onThreads: [], storePath }
    : { here, onThreads, storePath }
}

/**
 * Replays the events up to `head` that these projections read into fresh documents of theirs
 * and commits them with checkpoints at `head`. The
 * SQLite adapter's synchronous iterator is used where there is one: it skips the other types
 * inside SQLite, saves a promise per page, and hands over one parsed event at a time, which
 * dies young instead of living as long as its page.
 */
export const replayProjections = async (
  store: EventStore,
  docStore: ProjectionDocStore,
  projections: readonly StoredProjection[],
  head: number,
): Promise<void> => {
  const engine = new ProjectionEngine(projections, docStore)
  const types = projectedEventTypes(projections)
  const applyOne = (event: RecordedEvent): void => {
    engine.applyRecorded(event)
    if (engine.pendingEventCount() >= rebuildCommitEventsMax) engine.commit()
  }
  if (store instanceof SqliteEventStore) {
    for (const event of store.iterateAll(0, { types, throughPosition: head })) applyOne(event)
  } else {
    await readEach(store, head, (event) => {
      if (types.has(event.type)) applyOne(event)
    })
  }
  engine.skipTo(head)
  engine.commit()
}

/** Hands every event up to `head` to `visit`, in order, a page at a time. */
const readEach = async (
  store: EventStore,
  head: number,
  visit: (event: RecordedEvent) => void,
): Promise<void> => {
  let after = 0
  while (after < head) {
    const page = await store.readAll(after, rebuildReadPageEventsMax)
    const last = page[page.length - 1]
    if (last === undefined) return
    for (const event of page) {
      if (event.position > head) return
      visit(event)
    }
    after = last.position
  }
}
