import pino, { type Logger } from 'pino'
import { allProjections, type StoredProjection } from '../../projections'
import type { EventStore, RecordedEvent } from '../store/port'
import { ProjectionDocStore } from './doc-store'
import { ProjectionEngine } from './engine'
import { rebuildCommitEventsMax, rebuildReadPageEventsMax } from './limits'

/**
 * Rebuilds the read models from position 0: forgets their documents and checkpoints, replays
 * the whole log through the same engine as the live runner, and commits every
 * `rebuildCommitEventsMax` events. Documents touched many times between two commits are written
 * once, which is what makes a replay of a million events fast. Each commit carries its
 * checkpoint, so an interrupted rebuild is resumed by the runner from there, never half-applied.
 *
 * Run it while no runner has the same file open: a running service keeps recently read
 * documents in memory and its checkpoint, and would mix them with the rebuilt ones.
 */
export interface RebuildOptions {
  readonly store: EventStore
  readonly path: string
  readonly logger?: Logger
  readonly projections?: readonly StoredProjection[]
}

/** Where a rebuild ended, how many events it read and how long it took. */
export interface RebuildResult {
  readonly position: number
  readonly eventCount: number
  readonly durationMs: number
}

/** Replays the whole log into fresh read models; see the module comment. */
export const rebuildProjections = async (options: RebuildOptions): Promise<RebuildResult> => {
  const log = (options.logger ?? pino({ level: 'silent' })).child({ module: 'projection.runner' })
  const projections = options.projections ?? allProjections
  const startedMs = Date.now()
  const docStore = new ProjectionDocStore(options.path)
  try {
    docStore.reset(projections)
    const engine = new ProjectionEngine(projections, docStore)
    const eventCount = await replay(options.store, engine)
    const position = engine.commit()
    const durationMs = Date.now() - startedMs
    log.info({ position, eventCount, durationMs }, 'projections rebuilt')
    return { position, eventCount, durationMs }
  } finally {
    docStore.close()
  }
}

/** A store that can also walk its log synchronously (the SQLite adapter's `iterateAll`). */
interface IterableStore {
  iterateAll(afterPosition?: number): Iterable<RecordedEvent>
}

const hasIterateAll = (store: EventStore): store is EventStore & IterableStore =>
  typeof (store as Partial<IterableStore>).iterateAll === 'function'

/**
 * Every event of the log through the engine, committing as it goes. The SQLite adapter's
 * synchronous iterator is used where there is one: besides saving a promise per page, it hands
 * over one parsed event at a time, which dies young instead of living as long as its page.
 */
const replay = async (store: EventStore, engine: ProjectionEngine): Promise<number> => {
  let eventCount = 0
  const applyOne = (event: RecordedEvent): void => {
    engine.applyRecorded(event)
    eventCount += 1
    if (engine.pendingEventCount() >= rebuildCommitEventsMax) engine.commit()
  }
  if (hasIterateAll(store)) {
    for (const event of store.iterateAll(0)) applyOne(event)
    return eventCount
  }

  let after = 0
  for (;;) {
    const page = await store.readAll(after, rebuildReadPageEventsMax)
    const last = page[page.length - 1]
    if (last === undefined) return eventCount
    for (const event of page) applyOne(event)
    after = last.position
  }
}
