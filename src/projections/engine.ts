import { isEventType } from '../../domain/events'
import type { StoredProjection } from '../../projections'
import type { ProjectedEvent } from '../../projections/projection'
import type { RecordedEvent } from '../store/port'
import type { Checkpoint, Checkpoints, DocChanges, ProjectionDocStore } from './doc-store'
import { liveDocGenerationSizeMax } from './limits'

/**
 * The in-memory side of the runner and of rebuilds: every projection's committed documents (all
 * of them, or a cache read through from the file; see `DocResidence`), the checkpoint of each,
 * and the changes of the events applied since the last commit. Changes are staged apart from the
 * committed documents, so a failed commit leaves memory exactly as the file is, and queries
 * never see an event whose commit has not happened.
 */

/**
 * A recorded event as projections see it, or undefined for a type the domain does not know.
 *
 * The data is taken as stored, without running its io-ts codec again: the store decodes every
 * event when it is written and the audit's verification decodes the whole log, while a decode
 * here costs ten times the JSON parse and would make rebuilds several times slower.
 */
export const projectedEventOf = (recorded: RecordedEvent): ProjectedEvent | undefined => {
  if (!isEventType(recorded.type)) return undefined
  return {
    type: recorded.type,
    data: recorded.data,
    position: recorded.position,
    streamId: recorded.streamId,
    revision: recorded.revision,
    occurredAt: recorded.metadata.occurredAt,
    recordedAt: recorded.metadata.recordedAt,
  } as ProjectedEvent
}

/** The event types some of these projections read: all a replay needs from the log. */
export const projectedEventTypes = (projections: readonly StoredProjection[]): Set<string> =>
  new Set(projections.flatMap((projection) => projection.eventTypes))

/**
 * Sets back to position 0 every projection whose stored version is not its current one, so it
 * is rebuilt from the log by the next catch-up. Returns the names of those reset.
 */
export const resetOutdatedProjections = (
  projections: readonly StoredProjection[],
  store: ProjectionDocStore,
): string[] => {
  const saved = store.checkpoints()
  const outdated = projections.filter((p) => {
    const checkpoint = saved.get(p.name)
    return checkpoint !== undefined && checkpoint.version !== p.version
  })
  store.reset(outdated)
  return outdated.map((p) => p.name)
}

/**
 * Where an engine keeps a projection's committed documents. `all`: every document parsed in
 * memory, loaded at start; a rebuild uses it, since it starts from nothing and touches every
 * document anyway, and the live runner for projections with a few hundred documents.
 * `onDemand`: a bounded cache read through from the projections file; the live runner uses it
 * for projections whose documents grow with the log (see `onDemandProjections`), so it starts
 * without parsing them all and its memory does not grow with the log.
 */
export type DocResidence = 'all' | 'onDemand'

/** A projection's committed documents: exactly those of the projections file. */
interface CommittedDocs {
  get(key: string): unknown
  /** Records a document once it is written to the file. */
  set(key: string, doc: unknown): void
  entries(): Iterable<readonly [string, unknown]>
}

/** Remembers that the file has no document at a key, so a new key is looked up once. */
const absent = Symbol('absent')

/**
 * Committed documents read from the file on a miss and kept in two generations of Maps: a
 * lookup or a write goes into the young one, which becomes the old one when full, and the old
 * one is dropped then. Entries are never changed in place, so nothing can go stale: the file is
 * written before `set` is called, and it is the only writer of the file while the runner runs.
 */
class DocsOnDemand implements CommittedDocs {
  private young = new Map<string, unknown>()
  private old = new Map<string, unknown>()

  constructor(
    private readonly projection: string,
    private readonly store: ProjectionDocStore,
    private readonly generationSizeMax: number,
  ) {}

  get(key: string): unknown {
    let doc = this.young.get(key)
    if (doc === undefined) {
      doc = this.old.get(key) ?? this.store.loadDoc(this.projection, key) ?? absent
      this.set(key, doc)
    }
    return doc === absent ? undefined : doc
  }

  set(key: string, doc: unknown): void {
    this.young.set(key, doc)
    if (this.young.size < this.generationSizeMax) return
    this.old = this.young
    this.young = new Map()
  }

  /** Every document, from the file; only small projections are listed whole by queries. */
  entries(): Iterable<readonly [string, unknown]> {
    return this.store.loadDocs(this.projection).entries()
  }
}

/** One projection's place in the engine: its documents, staged changes and checkpoint. */
interface Slot {
  readonly projection: StoredProjection
  readonly committed: CommittedDocs
  /** Changed by events applied since the last commit began. */
  staged: Map<string, unknown>
  /** Changed by the commit being written, if one is: neither staged nor yet committed. */
  writing: Map<string, unknown>
  /**
   * The committed documents at the keys of `writing`, as they were when the commit began, for
   * queries: the writer may have committed the new ones to the file before this thread hears of
   * it, and a document read from the file then would be ahead of the position queries report.
   */
  writingBefore: Map<string, unknown>
  checkpoint: Checkpoint
}

/** A commit begun and not yet ended: what to write, for `endCommit` to make visible. */
export interface CommitBatch {
  readonly changes: DocChanges
  readonly checkpoints: Checkpoints
}

/** Applies events to every projection in memory and commits them with their checkpoints. */
export class ProjectionEngine {
  private readonly slots: Slot[]
  private readonly slotsByName: ReadonlyMap<string, Slot>
  /** The slots of the projections that read each event type; other types are skipped. */
  private readonly slotsByType: ReadonlyMap<string, readonly Slot[]>
  /** Lent to `apply` for one call only; reused because a replay would allocate millions. */
  private readonly current = new Map<string, unknown>()
  private stagedPosition: number
  private stagedEventCount = 0
  private writingBatch: CommitBatch | undefined
  /** The position the commit being written reaches. */
  private writingPosition: number | undefined

  constructor(
    projections: readonly StoredProjection[],
    private readonly store: ProjectionDocStore,
    residence: DocResidence | ((projection: StoredProjection) => DocResidence) = 'all',
    /** For tests, which make it tiny so that documents are dropped and read again. */
    generationSizeMax = liveDocGenerationSizeMax,
  ) {
    const saved = store.checkpoints()
    const residenceOf = typeof residence === 'function' ? residence : () => residence
    this.slots = projections.map((projection) => ({
      projection,
      committed:
        residenceOf(projection) === 'all'
          ? store.loadDocs(projection.name)
          : new DocsOnDemand(projection.name, store, generationSizeMax),
      staged: new Map(),
      writing: new Map(),
      writingBefore: new Map(),
      checkpoint: saved.get(projection.name) ?? { version: projection.version, position: 0 },
    }))
    this.slotsByName = new Map(this.slots.map((slot) => [slot.projection.name, slot]))
    const slotsByType = new Map<string, Slot[]>()
    for (const slot of this.slots) {
      for (const type of slot.projection.eventTypes) {
        slotsByType.set(type, [...(slotsByType.get(type) ?? []), slot])
      }
    }
    this.slotsByType = slotsByType
    this.stagedPosition = this.position()
  }

  /** The committed position every projection has reached: what queries reflect. */
  position(): number {
    let lowest = Number.POSITIVE_INFINITY
    for (const slot of this.slots) lowest = Math.min(lowest, slot.checkpoint.position)
    return Number.isFinite(lowest) ? lowest : 0
  }

  /** Events applied and not yet committed. */
  pendingEventCount(): number {
    return this.stagedEventCount
  }

  /** The position applied so far, committed or not. */
  appliedPosition(): number {
    return this.stagedPosition
  }

  /** A committed document. */
  doc<Doc>(projection: string, key: string): Doc | undefined {
    const slot = this.slotsByName.get(projection)
    if (slot === undefined) return undefined
    const doc = slot.writingBefore.has(key) ? slot.writingBefore.get(key) : slot.committed.get(key)
    return doc as Doc | undefined
  }

  /** Every committed document of a projection. */
  docs<Doc>(projection: string): Doc[] {
    const slot = this.slotsByName.get(projection)
    if (slot === undefined) return []
    const docs: unknown[] = []
    for (const [key, doc] of slot.committed.entries()) {
      if (!slot.writingBefore.has(key)) docs.push(doc)
    }
    for (const doc of slot.writingBefore.values()) if (doc !== undefined) docs.push(doc)
    return docs as Doc[]
  }

  /**
   * Applies recorded events in order, staging the changed documents. An event at or before a
   * projection's checkpoint is skipped for that projection, so a redelivered page is harmless
   * and a projection rebuilt alone catches up while the others wait at their position.
   */
  apply(events: readonly RecordedEvent[]): void {
    for (const recorded of events) this.applyRecorded(recorded)
  }

  /** Applies one recorded event; for callers that read the log one event at a time. */
  applyRecorded(recorded: RecordedEvent): void {
    if (recorded.position <= this.stagedPosition) return
    const slots = this.slotsByType.get(recorded.type)
    const event = slots === undefined ? undefined : projectedEventOf(recorded)
    if (slots !== undefined && event !== undefined) this.applyOne(event, slots)
    this.stagedPosition = recorded.position
    this.stagedEventCount += 1
  }

  /**
   * Takes the log as applied up to `position` when the events after the last one applied are
   * known to change no projection: a rebuild reads only the types its projections read, and
   * this carries the checkpoints over the others to the head it read to.
   */
  skipTo(position: number): void {
    if (position <= this.stagedPosition) return
    this.stagedPosition = position
  }

  private applyOne(event: ProjectedEvent, slots: readonly Slot[]): void {
    const current = this.current
    for (const slot of slots) {
      if (event.position <= slot.checkpoint.position) continue
      const keys = slot.projection.keysOf(event)
      if (keys.length === 0) continue

      current.clear()
      for (const key of keys) {
        current.set(key, slot.staged.get(key) ?? slot.writing.get(key) ?? slot.committed.get(key))
      }
      for (const [key, doc] of slot.projection.apply(event, current)) slot.staged.set(key, doc)
    }
  }

  /**
   * Writes the staged documents and every projection's new checkpoint in one transaction, then
   * makes them visible to queries. Returns the position committed.
   */
  commit(): number {
    // Nothing can read between the write and `endCommit`: no documents need keeping for it.
    const batch = this.takeStaged(false)
    if (batch === undefined) return this.position()
    try {
      this.store.save(batch.changes, batch.checkpoints)
    } catch (error) {
      this.abortCommit()
      throw error
    }
    this.endCommit()
    return this.position()
  }

  /**
   * Takes the staged documents and every projection's new checkpoint out for writing, or gives
   * undefined when nothing was applied since the last commit. Events applied meanwhile stage
   * new changes over them; queries see none of it until `endCommit`, called once the batch is
   * written, so they never see what a crash could take back. One commit at a time.
   */
  beginCommit(): CommitBatch | undefined {
    return this.takeStaged(true)
  }

  private takeStaged(keepCommitted: boolean): CommitBatch | undefined {
    if (this.writingBatch !== undefined) {
      throw new Error('assertion failed: a commit begins while another is being written')
    }
    if (this.stagedEventCount === 0 && this.stagedPosition <= this.position()) return undefined
    const changes = new Map<string, Map<string, unknown>>()
    const checkpoints = new Map<string, Checkpoint>()
    for (const slot of this.slots) {
      const position = Math.max(slot.checkpoint.position, this.stagedPosition)
      checkpoints.set(slot.projection.name, { version: slot.projection.version, position })
      if (slot.staged.size > 0) changes.set(slot.projection.name, slot.staged)
      if (keepCommitted) {
        for (const key of slot.staged.keys()) slot.writingBefore.set(key, slot.committed.get(key))
      }
      slot.writing = slot.staged
      slot.staged = new Map()
    }
    this.stagedEventCount = 0
    this.writingBatch = { changes, checkpoints }
    this.writingPosition = this.stagedPosition
    return this.writingBatch
  }

  /** The batch of `beginCommit` is written: its documents and checkpoints become visible. */
  endCommit(): void {
    const batch = this.writingBatch
    if (batch === undefined) throw new Error('assertion failed: no commit is being written')
    for (const slot of this.slots) {
      for (const [key, doc] of slot.writing) slot.committed.set(key, doc)
      slot.writing = new Map()
      slot.writingBefore = new Map()
      slot.checkpoint = batch.checkpoints.get(slot.projection.name) as Checkpoint
    }
    this.writingBatch = undefined
    this.writingPosition = undefined
  }

  /**
   * Forgets what was applied since the last commit began, after an event failed to apply: the
   * commit being written, if any, goes on.
   */
  discard(): void {
    for (const slot of this.slots) slot.staged = new Map()
    this.stagedPosition = this.writingPosition ?? this.position()
    this.stagedEventCount = 0
  }

  /** Forgets the commit being written, which failed, and everything applied since. */
  abortCommit(): void {
    for (const slot of this.slots) {
      slot.writing = new Map()
      slot.writingBefore = new Map()
    }
    this.writingBatch = undefined
    this.writingPosition = undefined
    this.discard()
  }
}
