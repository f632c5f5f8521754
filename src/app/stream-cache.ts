import type { LedgerEvent } from '../../domain/events'

/**
 * How the command side folds a stream into the state its decider reads. The executor picks one
 * per stream by its category.
 */
export interface StreamFold<State = unknown> {
  readonly initial: State
  evolve(state: State, event: LedgerEvent): State
}

/** A stream's folded state at a revision, with what the next append must chain to. */
export interface StreamSnapshot<State = unknown> {
  /** -1 when the stream does not exist. */
  readonly revision: number
  readonly state: State
  /** The hash of the last event, which the next event's `previousHash` must carry. */
  readonly lastHash: string
  /** The position of the last event, once committed; undefined while an append is in flight. */
  readonly lastPosition: number | undefined
  /** Settles when the append that produced this snapshot is durable, or has failed. */
  readonly committed: Promise<unknown>
}

/**
 * A bounded cache of stream snapshots, least recently used first out. It lets a command decide
 * without rereading a stream from the start, and lets the next command on a stream decide on
 * top of an append still in flight (the store applies appends in order and refuses any whose
 * expected revision or previous hash no longer holds, so a wrong guess costs a retry, never a
 * wrong write).
 */
export class StreamCache {
  private readonly entries = new Map<string, StreamSnapshot>()

  constructor(private readonly sizeMax: number) {}

  get(streamId: string): StreamSnapshot | undefined {
    const entry = this.entries.get(streamId)
    if (entry === undefined) return undefined
    this.entries.delete(streamId)
    this.entries.set(streamId, entry)
    return entry
  }

  set(streamId: string, snapshot: StreamSnapshot): void {
    this.entries.delete(streamId)
    this.entries.set(streamId, snapshot)
    if (this.entries.size > this.sizeMax) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
  }

  clear(): void {
    this.entries.clear()
  }

  /** Drops a snapshot, but only the one given, so a newer snapshot is never dropped by mistake. */
  invalidate(streamId: string, snapshot?: StreamSnapshot): void {
    if (snapshot === undefined || this.entries.get(streamId) === snapshot) {
      this.entries.delete(streamId)
    }
  }
}

/**
 * In-process locks per stream. A command holds the locks of every stream it reads until its
 * append is queued, so commands on one stream decide one after another, on the latest state,
 * while their commits still share a transaction.
 */
export class StreamLocks {
  private readonly tails = new Map<string, Promise<void>>()

  /** Takes the locks of all the streams, in sorted order so two commands never deadlock. */
  async acquire(streamIds: readonly string[]): Promise<() => void> {
    const sorted = [...new Set(streamIds)].sort()
    const releases: (() => void)[] = []
    for (const streamId of sorted) releases.push(await this.acquireOne(streamId))
    return () => releases.forEach((release) => release())
  }

  private async acquireOne(streamId: string): Promise<() => void> {
    const previous = this.tails.get(streamId) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => current)
    this.tails.set(streamId, tail)
    await previous
    return () => {
      release()
      if (this.tails.get(streamId) === tail) this.tails.delete(streamId)
    }
  }
}
