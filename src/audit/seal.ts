import { createHash, type Hash } from 'node:crypto'
import { v5 as uuidV5 } from 'uuid'
import type { Logger } from 'pino'
import type { EventDataOf } from '../../domain/events'
import { streams } from '../../domain/streams'
import {
  isConcurrencyConflict,
  type EventStore,
  type RecordedEvent,
} from '../store/port'
import { buildEventToAppend } from './chain'
import { zeroHash } from './hash'
import { sealPollMsMax, sealReadPageSize } from './limits'

/**
 * Seals close the gaps that per-stream hash chains leave: a stream's chain shows that its own
 * events were not altered, removed or reordered, but not where they sit among other streams, nor
 * that a whole stream was not removed. A seal is an event on `seal-ledger` that hashes every
 * event's position and hash over a range of the log, chained on the previous seal, so the whole
 * log up to the last seal is fixed by that one hash.
 *
 * The seal hash, precisely: the lowercase hex SHA-256 of the UTF-8 text made of these lines, each
 * ended by one "\n", numbers in decimal without leading zeros:
 *
 *     ledger-seal v1
 *     <previousSealHash>                      (the zero hash for the first seal)
 *     <fromPosition>                          (the previous seal's throughPosition, 0 at first)
 *     <position> <hash>                       (one line per event with
 *     ...                                      fromPosition < position <= throughPosition,
 *                                              by ascending position; hash = metadata.hash)
 *     <throughPosition> <eventCount>          (eventCount = the number of lines above)
 *
 * Seal events are themselves in the log, so each seal's own event is covered by the next seal.
 */
export type LedgerSeal = EventDataOf<'LedgerSealed'>

export const sealStreamId = streams.seals()

/** Event type of a seal, spelled once. */
export const sealEventType = 'LedgerSealed'

/**
 * Computes a seal hash incrementally, one event at a time, so neither the sealer nor the
 * verifier holds a range in memory. Events must be added in ascending position order.
 */
export class SealHasher {
  private readonly hash: Hash = createHash('sha256')
  private count = 0
  private lastPosition: number
  /** Lines not yet fed to the hash: one `update` per few hundred events, not one per event. */
  private pending = ''

  constructor(
    readonly fromPosition: number,
    readonly previousSealHash: string,
  ) {
    this.lastPosition = fromPosition
    this.hash.update(`ledger-seal v1\n${previousSealHash}\n${fromPosition}\n`)
  }

  add(position: number, eventHash: string): void {
    if (position <= this.lastPosition) {
      throw new Error(`assertion failed: seal position ${position} after ${this.lastPosition}`)
    }
    this.lastPosition = position
    this.count += 1
    this.pending += `${position} ${eventHash}\n`
    if (this.pending.length >= sealHashChunkChars) this.flush()
  }

  private flush(): void {
    this.hash.update(this.pending)
    this.pending = ''
  }

  /** Events added so far. */
  get eventCount(): number {
    return this.count
  }

  /** The position of the last event added, or `fromPosition` when none was. */
  get lastAddedPosition(): number {
    return this.lastPosition
  }

  /** Ends the hash; the hasher cannot be used afterwards. */
  digest(throughPosition: number): string {
    this.flush()
    this.hash.update(`${throughPosition} ${this.count}\n`)
    return this.hash.digest('hex')
  }
}

/** About 500 event lines: large enough to amortise a call into the hash, small in memory. */
const sealHashChunkChars = 40_000

/**
 * The seal hash of a range given in full; the sealer and the verifier use `SealHasher` directly
 * and this is the reference form for tests and outside tools.
 */
export const computeSealHash = (
  range: { fromPosition: number; throughPosition: number; previousSealHash: string },
  events: Iterable<{ position: number; hash: string }>,
): string => {
  const hasher = new SealHasher(range.fromPosition, range.previousSealHash)
  for (const event of events) hasher.add(event.position, event.hash)
  return hasher.digest(range.throughPosition)
}

/** Seal event ids are derived from the range, so a retried seal append is recognised. */
const sealIdNamespace = 'b8f1b1e4-6f0e-4b7c-9a59-5c3f0d1a2e77'

export const sealEventId = (fromPosition: number, throughPosition: number): string =>
  uuidV5(`${sealStreamId}:${fromPosition}:${throughPosition}`, sealIdNamespace)

/** Where the seal stream stands: what the next seal chains on. */
export interface SealChainHead {
  /** Revision of the last seal event, -1 when there is none. */
  readonly revision: number
  /** `metadata.hash` of the last seal event (its stream chain), the zero hash when none. */
  readonly eventHash: string
  /** Position of the last seal event in the log, 0 when none. */
  readonly position: number
  /** The last seal's `sealHash` and `throughPosition`: where the next seal starts. */
  readonly sealHash: string
  readonly throughPosition: number
}

export const emptySealChain: SealChainHead = {
  revision: -1,
  eventHash: zeroHash,
  position: 0,
  sealHash: zeroHash,
  throughPosition: 0,
}

/** Reads the head of the seal chain: the last event of `seal-ledger`. */
export const readSealChainHead = async (
  store: EventStore,
  known: SealChainHead = emptySealChain,
): Promise<SealChainHead> => {
  const events = await store.readStream(sealStreamId, known.revision + 1)
  const last = events[events.length - 1]
  return last === undefined ? known : sealChainHeadOf(last)
}

const sealChainHeadOf = (event: RecordedEvent): SealChainHead => {
  const seal = event.data as LedgerSeal
  return {
    revision: event.revision,
    eventHash: event.metadata.hash,
    position: event.position,
    sealHash: seal.sealHash,
    throughPosition: seal.throughPosition,
  }
}

export interface SealerOptions {
  readonly store: EventStore
  /** A seal is written once this many events (seals excluded) are unsealed. */
  readonly intervalEvents: number
  /** A seal is written once this long has passed since the last one, if anything is unsealed. */
  readonly intervalMs: number
  readonly logger: Logger
  /** The clock, injected for tests; `Date.now` by default. */
  readonly nowMs?: () => number
}

export interface Sealer {
  /** Seals whatever is unsealed now, if anything is; resolves with the seal or null. */
  sealNow(): Promise<LedgerSeal | null>
  /** Stops the timer, waits for a seal in progress, and seals what remains unsealed. */
  stop(): Promise<void>
}

/**
 * Starts the background sealer. Every append to `seal-ledger` states the revision the sealer
 * last read, so two sealers (two API instances) never fork the seal chain: the loser of a race
 * gets a concurrency conflict, re-reads the chain, and continues after the winner's seal.
 */
export const startSealer = (options: SealerOptions): Sealer => {
  const log = options.logger.child({ module: 'audit.sealer' })
  const sealer = new SealerLoop(options, log)
  let stopped = false
  let timer: NodeJS.Timeout | undefined

  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => {
      void sealer.enqueue(false).then(schedule)
    }, Math.min(options.intervalMs, sealPollMsMax))
    timer.unref()
  }
  schedule()

  return {
    sealNow: () => sealer.enqueue(true),
    stop: async () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await sealer.enqueue(true)
    },
  }
}

/** The state of one sealer: the chain head it knows and the range it has hashed so far. */
class SealerLoop {
  private chain: SealChainHead = emptySealChain
  private hasher: SealHasher | undefined
  /** Events hashed into the pending range that are not seals themselves. */
  private unsealedCount = 0
  private lastSealAtMs: number
  private queue: Promise<unknown> = Promise.resolve()
  private readonly nowMs: () => number

  constructor(
    private readonly options: SealerOptions,
    private readonly log: Logger,
  ) {
    this.nowMs = options.nowMs ?? Date.now
    this.lastSealAtMs = this.nowMs()
  }

  /** Runs one pass after the previous one; failures are logged, never thrown to the timer. */
  enqueue(force: boolean): Promise<LedgerSeal | null> {
    const run = this.queue.then(() => this.pass(force))
    this.queue = run.catch(() => undefined)
    return run.catch((error: unknown) => {
      this.log.error({ err: error }, 'seal pass failed')
      this.hasher = undefined
      return null
    })
  }

  /**
   * Reads what was appended since the last pass into the pending range, sealing every
   * `intervalEvents` on the way (a long unsealed backlog gets several seals, not one huge one),
   * then seals the rest when forced or when the interval has passed.
   */
  private async pass(force: boolean): Promise<LedgerSeal | null> {
    let lastSeal: LedgerSeal | null = null
    for (;;) {
      const hasher = await this.pendingHasher()
      const page = await this.options.store.readAll(hasher.lastAddedPosition, sealReadPageSize)
      const cut = this.addUntilFull(hasher, page)
      if (cut) {
        lastSeal = (await this.seal(hasher)) ?? lastSeal
        continue
      }
      if (page.length < sealReadPageSize) break
      // A page is read and hashed synchronously: requests are served between two pages.
      await new Promise((resolve) => setImmediate(resolve))
    }

    const due = force || this.nowMs() - this.lastSealAtMs >= this.options.intervalMs
    if (due && this.unsealedCount > 0 && this.hasher !== undefined) {
      lastSeal = (await this.seal(this.hasher)) ?? lastSeal
    }
    return lastSeal
  }

  /** The hasher of the range after the last known seal, re-read from the store when unknown. */
  private async pendingHasher(): Promise<SealHasher> {
    if (this.hasher !== undefined) return this.hasher
    this.chain = await readSealChainHead(this.options.store, this.chain)
    this.hasher = new SealHasher(this.chain.throughPosition, this.chain.sealHash)
    this.unsealedCount = 0
    return this.hasher
  }

  /** Adds a page to the range; true when the range is full and must be sealed before more. */
  private addUntilFull(hasher: SealHasher, page: readonly RecordedEvent[]): boolean {
    for (const event of page) {
      if (event.position <= hasher.lastAddedPosition) continue
      hasher.add(event.position, event.metadata.hash)
      if (event.streamId !== sealStreamId) this.unsealedCount += 1
      if (this.unsealedCount >= this.options.intervalEvents) return true
    }
    return false
  }

  /**
   * Appends the seal of the pending range. On a conflict another sealer won: the chain is
   * re-read on the next step and hashing resumes after its seal. Either way the pending range
   * is dropped and the chain head is re-read from the store, which also picks up the stored
   * event when a retried append was recognised as a duplicate.
   */
  private async seal(hasher: SealHasher): Promise<LedgerSeal | null> {
    const seal = this.sealOf(hasher)
    const now = new Date(this.nowMs()).toISOString()
    const id = sealEventId(seal.fromPosition, seal.throughPosition)
    const event = buildEventToAppend({
      streamId: sealStreamId,
      revision: this.chain.revision + 1,
      previousHash: this.chain.eventHash,
      eventId: id,
      type: sealEventType,
      data: seal,
      occurredAt: now,
      recordedAt: now,
      commandId: id,
      causationId: id,
      correlationId: id,
      actor: 'system:sealer',
    })
    this.hasher = undefined

    const expectedRevision = this.chain.revision < 0 ? 'no_stream' : this.chain.revision
    try {
      const appended = { streamId: sealStreamId, expectedRevision, events: [event] } as const
      const result = await this.options.store.appendToStreams([appended])
      this.lastSealAtMs = this.nowMs()
      this.log.info({ ...seal, position: result.position }, 'ledger sealed')
      return seal
    } catch (error) {
      if (!isConcurrencyConflict(error)) throw error
      this.log.info({ streamId: sealStreamId, expectedRevision }, 'seal raced, re-reading chain')
      return null
    }
  }

  private sealOf(hasher: SealHasher): LedgerSeal {
    const throughPosition = hasher.lastAddedPosition
    const eventCount = hasher.eventCount
    return {
      fromPosition: hasher.fromPosition,
      throughPosition,
      eventCount,
      sealHash: hasher.digest(throughPosition),
      previousSealHash: hasher.previousSealHash,
    } as LedgerSeal
  }
}
