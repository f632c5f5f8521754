import { isLeft } from 'fp-ts/Either'
import { PathReporter } from 'io-ts/PathReporter'
import { eventCodecs, isEventType, type LedgerEvent } from '../../domain/events'
import { postingsOf, sumPostingsCents } from '../../domain/postings'
import {
  StoreCorrupted,
  type EventMetadata,
  type EventStore,
  type RecordedEvent,
} from '../store/port'
import { FundingCheck } from './funding-check'
import { hashEvent, zeroHash } from './hash'
import { digestThreadEventsMin, sealLagEventsMax } from './limits'
import { DigestThread, type PageDigests } from './digests'
import { SealHasher, sealEventType, sealStreamId, type LedgerSeal } from './seal'
import { logPages, type LogFacts, type StoredEvent } from './source'
import { storedTextDigest, storedTextShape, type StoredTexts } from './stored-text'

/**
 * Verification replays the whole log in position order and rechecks everything the ledger
 * promises auditors (DESIGN.md, Integrity), stopping at the first problem it finds and naming
 * it by position, stream and a code from `problemKinds`.
 *
 * What it can and cannot see. Hashes chain each stream, so an event altered, removed or moved
 * within its stream shows. Seals chain the whole log, so events swapped between streams, or
 * removed with their whole stream, show once a seal covers them. Events after the last seal are
 * protected only by their streams' chains, and the END of the log has no successor to betray
 * its removal: a cut tail is found only from facts outside the events (SQLite's sequence and
 * stream table, see `source.ts`), which whoever rewrites the file can rewrite too, or from an
 * anchor kept outside the store: the last seal of an earlier verification (`lastSeal` of its
 * result), which fixes every event up to that seal. A forger who rewrites every hash and seal
 * after the anchor, and the store's own facts, is not caught: keeping anchors is the defence.
 * A KurrentDB store keeps no such facts here, so there a cut tail shows only against an anchor.
 *
 * The accounting checks recompute, for every event, that its postings balance and that the
 * funding identities hold between the events' own figures and the posting balances, and that
 * no programme's budget or bonus goes below zero. They cannot tell whether an event's figures
 * are the ones its decider should have produced from the command: the deciders' tests say that.
 */

/**
 * The problems verification names, closed and in precedence order: when one event has several,
 * the first in this list is reported. Codes are never renamed or reused; new ones go at the end
 * of their group.
 */
export const problemKinds = [
  /** The store could not give back the event at this position (unparseable row). */
  'store_unreadable',
  /** A position not above the one before it. */
  'position_not_increasing',
  /** A position skipped in a store that assigns them without gaps: the event was removed. */
  'event_missing',
  /** The log ends before a position the store assigned, or before the anchor. */
  'log_truncated',
  /** The anchored position holds another event than the anchor says, or none. */
  'anchor_mismatch',
  /** Metadata without a well-formed `hash` or `previousHash`. */
  'metadata_invalid',
  /** The event's content does not hash to its `hash`: it was altered. */
  'hash_mismatch',
  /** A revision other than the next one of its stream (counted from 0). */
  'revision_out_of_order',
  /** `previousHash` is not the hash of the previous event of the stream. */
  'previous_hash_mismatch',
  /** An event type outside `domain/events.ts`. */
  'unknown_type',
  /** Data that its type's codec refuses. */
  'data_invalid',
  /** A seal on another stream than `seal-ledger`, or something else on that stream. */
  'seal_misplaced',
  /** A seal that does not start where the previous one ended or does not chain on its hash. */
  'seal_chain_broken',
  /** A seal whose range is empty of sense: backwards, past its own position, or too far back. */
  'seal_range_invalid',
  /** A seal that counts another number of events than its range holds. */
  'seal_count_mismatch',
  /** A seal whose hash is not that of the events in its range: they changed or moved. */
  'seal_hash_mismatch',
  /** An event whose postings do not sum to zero. */
  'postings_unbalanced',
  /** A funding report identity (API.md) that does not hold after this event. */
  'funding_identity_broken',
  /** A programme's available budget below zero (DOMAIN.md, rule 1). */
  'budget_overspent',
  /** A programme's outstanding bonus below zero: more spent or cancelled than granted. */
  'bonus_overspent',
  /** A stream whose last event is below the revision the store recorded for it. */
  'stream_truncated',
] as const
export type ProblemKind = (typeof problemKinds)[number]

export interface VerificationProblem {
  /** Where the problem is: the event's position, or the first missing one. */
  readonly position: number
  /** The stream of the event, or null when the problem is not one event's (a cut log). */
  readonly streamId: string | null
  readonly kind: ProblemKind
  readonly detail: string
}

/** An event an auditor saw and kept outside the store: normally `lastSeal` of a verification. */
export interface VerificationAnchor {
  readonly position: number
  /** The event's `metadata.hash`. */
  readonly hash: string
}

/** The last seal verified, as an auditor keeps it for the next run's `anchor`. */
export interface SealAnchor extends VerificationAnchor {
  readonly sealHash: string
  readonly throughPosition: number
}

export interface VerificationResult {
  readonly ok: boolean
  /** Events that passed every check, in order; at a problem, those before it. */
  readonly checkedEvents: number
  readonly firstProblem: VerificationProblem | null
  /** The last position read. */
  readonly headPosition: number
  readonly lastSeal: SealAnchor | null
}

export interface VerifyOptions {
  readonly store: EventStore
  /** Facts the store keeps beside the events (`readLogFacts`); closed by the verifier. */
  readonly facts?: LogFacts
  readonly anchor?: VerificationAnchor
  /**
   * Whether stored texts are hashed ahead on a thread of their own (`digests.ts`); by default,
   * for logs of `digestThreadEventsMin` events or more. The result is the same either way.
   */
  readonly digestThread?: boolean
}

/**
 * Verifies the log up to its head at the start (or the store's assigned head, when it keeps
 * one): appends made meanwhile are left to the next run. Memory grows with the number of
 * streams and programmes (one entry each), not with the number of events.
 */
export const verifyLedger = async (options: VerifyOptions): Promise<VerificationResult> => {
  const facts = options.facts
  try {
    // Read to the last event even if the sequence was lowered: a fact never shortens the check.
    const throughPosition =
      facts === undefined
        ? await options.store.headPosition()
        : Math.max(facts.assignedThroughPosition, facts.headPosition)
    const pages = facts?.eventPages?.(throughPosition) ?? logPages(options.store, throughPosition)
    const digestThread = options.digestThread ?? throughPosition >= digestThreadEventsMin
    return await verifyEventPages(pages, { facts, anchor: options.anchor, digestThread })
  } finally {
    facts?.close()
  }
}

/**
 * Verifies events given in pages, in log order, from the first: the core of `verifyLedger`,
 * and what rechecks an ndjson export away from the store (`recordedEventOfNdjson`). Without
 * facts, positions need not be dense and the end of the log is taken as it comes.
 */
export const verifyEventPages = async (
  pages: AsyncIterable<readonly RecordedEvent[]> | Iterable<readonly RecordedEvent[]>,
  options: {
    readonly facts?: LogFacts | undefined
    readonly anchor?: VerificationAnchor | undefined
    readonly digestThread?: boolean | undefined
  } = {},
): Promise<VerificationResult> => {
  const { facts, anchor } = options
  const checker = new LogChecker(facts?.positionsDense ?? false, anchor)
  const digests = options.digestThread === true ? new DigestThread() : undefined
  try {
    const problem =
      (await checkEvents(pages, checker, digests)) ??
      checker.finish(facts?.assignedThroughPosition ?? 0, facts)
    return checker.result(problem)
  } finally {
    await digests?.close()
  }
}

/**
 * Checks page after page. With a digest thread, a page's digests are asked for as soon as it is
 * read and the page is checked once the next one is read: the thread hashes one page while this
 * thread reads and checks another.
 */
const checkEvents = async (
  pages: AsyncIterable<readonly RecordedEvent[]> | Iterable<readonly RecordedEvent[]>,
  checker: LogChecker,
  digests: DigestThread | undefined,
): Promise<VerificationProblem | undefined> => {
  const checkPage = async (read: ReadPage): Promise<VerificationProblem | undefined> => {
    const pageDigests = await read.digests
    try {
      for (let index = 0; index < read.page.length; index += 1) {
        const problem = checker.check(read.page[index] as RecordedEvent, pageDigests?.[index])
        if (problem !== undefined) return problem
      }
      return undefined
    } catch (error) {
      return unreadable(error)
    }
  }
  // With a digest thread, the page read last is checked only once the next one is read, so
  // that the thread hashes one page while this thread reads the next. A page that cannot be
  // read must not hide a problem in the page before it, which is checked first.
  let unchecked: ReadPage | undefined
  try {
    for await (const page of pages) {
      const read = { page, digests: digests?.digestsOf(page) ?? Promise.resolve(undefined) }
      const previous = digests === undefined ? read : unchecked
      unchecked = digests === undefined ? undefined : read
      const problem = previous === undefined ? undefined : await checkPage(previous)
      if (problem !== undefined) return problem
    }
    return unchecked === undefined ? undefined : await checkPage(unchecked)
  } catch (error) {
    const earlier = unchecked === undefined ? undefined : await checkPage(unchecked)
    return earlier ?? unreadable(error)
  }
}

/** A page read, with the digests of its stored texts when a digest thread computes them. */
interface ReadPage {
  readonly page: readonly RecordedEvent[]
  readonly digests: Promise<PageDigests>
}

/** A store that could not give back an event is a problem at its position; anything else throws. */
const unreadable = (error: unknown): VerificationProblem => {
  if (!(error instanceof StoreCorrupted)) throw error
  return problemAt(error.position, null, 'store_unreadable', error.detail)
}

const problemAt = (
  position: number,
  streamId: string | null,
  kind: ProblemKind,
  detail: string,
): VerificationProblem => ({ position, streamId, kind, detail })

const hashPattern = /^[0-9a-f]{64}$/

/** The last event seen of a stream. */
interface StreamTip {
  revision: number
  hash: string
}

/** The checks of one event after another; holds only per-stream and per-programme state. */
class LogChecker {
  private checkedEvents = 0
  private lastPosition = 0
  private anchorSeen = false
  /** The hash of the event being checked, once its chain checks passed. */
  private lastHash = zeroHash
  private readonly streams = new Map<string, StreamTip>()
  private readonly seals = new SealTracker()
  private readonly funding = new FundingCheck()

  constructor(
    private readonly positionsDense: boolean,
    private readonly anchor: VerificationAnchor | undefined,
  ) {}

  /** `digest`: of the event's stored text, when the digest thread computed it (`digests.ts`). */
  check(event: StoredEvent, digest?: string | null): VerificationProblem | undefined {
    const problem =
      this.checkPosition(event) ?? this.checkChain(event, digest) ?? this.checkContent(event)
    if (problem !== undefined) return problem

    this.lastPosition = event.position
    this.seals.add(event.position, this.lastHash)
    this.checkedEvents += 1
    return undefined
  }

  private checkPosition(event: RecordedEvent): VerificationProblem | undefined {
    const { position, streamId } = event
    if (!Number.isSafeInteger(position) || position <= this.lastPosition) {
      const detail = `position ${position} after ${this.lastPosition}`
      return problemAt(position, streamId, 'position_not_increasing', detail)
    }
    if (this.positionsDense && position !== this.lastPosition + 1) {
      const detail = `positions ${this.lastPosition + 1} to ${position - 1} are missing`
      return problemAt(this.lastPosition + 1, null, 'event_missing', detail)
    }
    return this.checkAnchor(event)
  }

  private checkAnchor(event: RecordedEvent): VerificationProblem | undefined {
    const anchor = this.anchor
    if (anchor === undefined || this.anchorSeen || event.position < anchor.position) return
    this.anchorSeen = true
    if (event.position > anchor.position) {
      const detail = `no event at the anchored position ${anchor.position}`
      return problemAt(anchor.position, null, 'anchor_mismatch', detail)
    }
    if (event.metadata?.hash !== anchor.hash) {
      const detail = `hash ${String(event.metadata?.hash)}, anchored ${anchor.hash}`
      return problemAt(event.position, event.streamId, 'anchor_mismatch', detail)
    }
    return undefined
  }

  /**
   * The event's own hash, then its place in its stream's chain. This runs for every event of the
   * log, so it allocates as little as it can when all is well (no closures, no copies).
   */
  private checkChain(
    event: StoredEvent,
    digest: string | null | undefined,
  ): VerificationProblem | undefined {
    const { position, streamId } = event
    const links = storedTextLinks(event, digest) ?? checkedLinks(event)
    if ('kind' in links) return problemAt(position, streamId, links.kind, links.detail)

    const tip = this.streams.get(streamId)
    const expectedRevision = tip === undefined ? 0 : tip.revision + 1
    if (event.revision !== expectedRevision) {
      const detail = `revision ${event.revision}, expected ${expectedRevision}`
      return problemAt(position, streamId, 'revision_out_of_order', detail)
    }
    const expectedPrevious = tip === undefined ? zeroHash : tip.hash
    if (links.previousHash !== expectedPrevious) {
      const detail = `previousHash ${links.previousHash}, expected ${expectedPrevious}`
      return problemAt(position, streamId, 'previous_hash_mismatch', detail)
    }

    if (tip === undefined) {
      this.streams.set(streamId, { revision: event.revision, hash: links.hash })
    } else {
      tip.revision = event.revision
      tip.hash = links.hash
    }
    this.lastHash = links.hash
    return undefined
  }

  /** Decoding, seals, postings and the funding identities. */
  private checkContent(event: RecordedEvent): VerificationProblem | undefined {
    const { position, streamId } = event
    const decoded = decodeEvent(event)
    if (typeof decoded === 'string') {
      const kind = isEventType(event.type) ? 'data_invalid' : 'unknown_type'
      return problemAt(position, streamId, kind, decoded)
    }

    const isSeal = decoded.type === sealEventType
    if (isSeal !== (streamId === sealStreamId)) {
      return problemAt(position, streamId, 'seal_misplaced', `${decoded.type} on ${streamId}`)
    }
    if (decoded.type === 'LedgerSealed') {
      const anchor = { position, hash: this.lastHash }
      const problem = this.seals.checkSeal(decoded.data, anchor)
      if (problem !== undefined) return problemAt(position, streamId, problem.kind, problem.detail)
    }

    const postings = postingsOf(decoded)
    const sumCents = sumPostingsCents(postings)
    if (sumCents !== 0) {
      const detail = `postings sum to ${sumCents} cents`
      return problemAt(position, streamId, 'postings_unbalanced', detail)
    }
    const funding = this.funding.apply(decoded, postings)
    return funding === undefined
      ? undefined
      : problemAt(position, streamId, funding.kind, funding.detail)
  }

  /** What can only be checked once the log has been read to its end. */
  finish(assignedPosition: number, facts: LogFacts | undefined): VerificationProblem | undefined {
    const next = this.lastPosition + 1
    const anchor = this.anchor
    if (anchor !== undefined && !this.anchorSeen) {
      const detail = `the log ends at ${this.lastPosition}, before the anchor at ${anchor.position}`
      return problemAt(next, null, 'log_truncated', detail)
    }
    if (facts !== undefined && this.lastPosition < assignedPosition) {
      const detail = `the log ends at ${this.lastPosition}; the store assigned ${assignedPosition}`
      return problemAt(next, null, 'log_truncated', detail)
    }
    return facts === undefined ? undefined : this.checkStreamTips(facts)
  }

  /**
   * Every stream must end where the store recorded it. Revisions run from 0 without gaps (checked
   * per event), so the log's streams sum their last revisions to events minus streams; when the
   * store's count and sum agree, so do the streams (short of a stream cut and another lengthened
   * by as much, which only a forger of the table does), and the table is walked only to name
   * the stream that differs.
   */
  private checkStreamTips(facts: LogFacts): VerificationProblem | undefined {
    const summary = facts.streamSummary?.()
    const revisionSum = this.checkedEvents - this.streams.size
    const agrees =
      summary !== undefined &&
      summary.streamCount === this.streams.size &&
      summary.revisionSum === revisionSum
    return agrees ? undefined : this.findStreamTipProblem(facts)
  }

  private findStreamTipProblem(facts: LogFacts): VerificationProblem | undefined {
    let recordedStreams = 0
    for (const [streamId, revision] of facts.streamRevisions()) {
      recordedStreams += 1
      const seen = this.streams.get(streamId)?.revision ?? -1
      if (seen !== revision) {
        const detail = `stream ends at revision ${seen}; the store recorded ${revision}`
        return problemAt(this.lastPosition + 1, streamId, 'stream_truncated', detail)
      }
    }
    if (recordedStreams !== this.streams.size) {
      const detail = `${this.streams.size} streams in the log, ${recordedStreams} recorded`
      return problemAt(this.lastPosition + 1, null, 'stream_truncated', detail)
    }
    return undefined
  }

  result(problem: VerificationProblem | undefined): VerificationResult {
    return {
      ok: problem === undefined,
      checkedEvents: this.checkedEvents,
      firstProblem: problem ?? null,
      headPosition: this.lastPosition,
      lastSeal: this.seals.lastSeal,
    }
  }
}

/** An event's place in the hash chain: its own hash and the one it chains on. */
interface ChainLinks {
  readonly hash: string
  readonly previousHash: string
}

/**
 * The fast path of the hash check, on the texts the store keeps (see `stored-text.ts`). If
 * that text hashes to the stored hash, the event is intact: the stored hash was computed over
 * exactly these bytes, which (SHA-256 having no second preimages) are the canonical text written
 * with the event. A forger who rewrites an event and its hash gets through here as through the
 * full check; only seals find them. Any other outcome proves nothing (the text may simply not be
 * canonical): undefined, and the caller takes the full path.
 *
 * `digest` is the digest of that text when the digest thread has computed it ahead (null when
 * it found the text not canonical); undefined, and it is computed here.
 */
const storedTextLinks = (
  event: StoredEvent,
  digest: string | null | undefined,
): ChainLinks | undefined => {
  const { dataText, metadataText } = event
  if (dataText === undefined || metadataText === undefined || digest === null) return undefined
  const shape = storedTextShape(metadataText)
  if (shape === undefined) return undefined
  // Both texts are there (checked above): the event is a StoredTexts, without a copy.
  const computed = digest ?? storedTextDigest(event as StoredTexts, shape)
  if (computed.length !== 64 || !metadataText.startsWith(computed, shape.hashEnd - 64)) {
    return undefined
  }
  // The digest, not a slice of the text: a slice would keep the whole text alive in the tips.
  const previousHash = metadataText.slice(shape.previousEnd - 64, shape.previousEnd)
  return { hash: computed, previousHash }
}

/** Why an event's links cannot be trusted. */
interface LinkProblem {
  readonly kind: 'metadata_invalid' | 'hash_mismatch'
  readonly detail: string
}

const malformed = (detail: string): LinkProblem => ({ kind: 'metadata_invalid', detail })

/**
 * The full check: the metadata parsed and its canonical text rebuilt, as `hashEvent` defines
 * the hash. Answers the links, or why they cannot be trusted.
 */
const checkedLinks = (event: RecordedEvent): ChainLinks | LinkProblem => {
  const metadata: unknown = event.metadata
  if (typeof metadata !== 'object' || metadata === null) return malformed('metadata not an object')
  const { hash, previousHash, ...unhashed } = metadata as Record<string, unknown>
  if (typeof hash !== 'string' || !hashPattern.test(hash)) return malformed('hash malformed')
  if (typeof previousHash !== 'string' || !hashPattern.test(previousHash)) {
    return malformed('previousHash malformed')
  }
  const computed = hashEvent({
    streamId: event.streamId,
    revision: event.revision,
    eventId: event.eventId,
    type: event.type,
    data: event.data,
    metadata: { ...unhashed, previousHash } as Omit<EventMetadata, 'hash'>,
  })
  if (computed === hash) return { hash, previousHash }
  return { kind: 'hash_mismatch', detail: `stored ${hash}, computed ${computed}` }
}

/**
 * The event decoded by its type's codec, or why not. `is` answers the same as `decode` for
 * these codecs (none transforms its input) without building a result, so the path reporter
 * runs only for an event that fails.
 */
const decodeEvent = (event: RecordedEvent): LedgerEvent | string => {
  if (!isEventType(event.type)) return `unknown event type ${event.type}`
  const codec = eventCodecs[event.type]
  // The recorded event has the `type` and `data` of a LedgerEvent: no copy per event.
  if (codec.is(event.data)) return event as unknown as LedgerEvent
  const decoded = codec.decode(event.data)
  return isLeft(decoded) ? PathReporter.report(decoded).join('; ') : 'codec refused the data'
}

/**
 * Recomputes every seal from the events before it. A seal's event comes after its
 * `throughPosition`, with the events appended meanwhile in between, so the hashes of the events
 * not yet fed to the running hash wait in a queue until the next seal says where it cuts; the
 * queue is bounded by `sealLagEventsMax`.
 */
class SealTracker {
  private hasher = new SealHasher(0, zeroHash)
  private readonly queuedPositions: number[] = []
  private readonly queuedHashes: string[] = []
  private queueStart = 0
  lastSeal: SealAnchor | null = null

  add(position: number, hash: string): void {
    this.queuedPositions.push(position)
    this.queuedHashes.push(hash)
    if (this.queuedPositions.length - this.queueStart > sealLagEventsMax) this.feedOne()
  }

  /** Checks a seal event; its own `hash` was checked before, and becomes `lastSeal`. */
  checkSeal(
    seal: LedgerSeal,
    anchor: VerificationAnchor,
  ): { kind: ProblemKind; detail: string } | undefined {
    const position = anchor.position
    const hasher = this.hasher
    if (seal.fromPosition !== hasher.fromPosition) {
      const detail = `seal from ${seal.fromPosition}, previous seal ended at ${hasher.fromPosition}`
      return { kind: 'seal_chain_broken', detail }
    }
    if (seal.previousSealHash !== hasher.previousSealHash) {
      const detail =
        `previousSealHash ${seal.previousSealHash}, expected ${hasher.previousSealHash}`
      return { kind: 'seal_chain_broken', detail }
    }
    const range = `(${seal.fromPosition}, ${seal.throughPosition}]`
    if (seal.throughPosition < seal.fromPosition || seal.throughPosition >= position) {
      return { kind: 'seal_range_invalid', detail: `seal range ${range} at ${position}` }
    }
    if (hasher.lastAddedPosition > seal.throughPosition) {
      const detail = `seal range ${range} lags by more than ${sealLagEventsMax} events`
      return { kind: 'seal_range_invalid', detail }
    }
    while (this.queueStart < this.queuedPositions.length) {
      if ((this.queuedPositions[this.queueStart] as number) > seal.throughPosition) break
      this.feedOne()
    }
    return this.closeRange(seal, anchor, range)
  }

  private closeRange(
    seal: LedgerSeal,
    anchor: VerificationAnchor,
    range: string,
  ): { kind: ProblemKind; detail: string } | undefined {
    const eventCount = this.hasher.eventCount
    if (eventCount !== seal.eventCount) {
      const detail = `seal counts ${seal.eventCount} events in ${range}, the log has ${eventCount}`
      return { kind: 'seal_count_mismatch', detail }
    }
    const computed = this.hasher.digest(seal.throughPosition)
    if (computed !== seal.sealHash) {
      const detail = `sealHash ${seal.sealHash} over ${range}, computed ${computed}`
      return { kind: 'seal_hash_mismatch', detail }
    }
    this.hasher = new SealHasher(seal.throughPosition, seal.sealHash)
    this.compactQueue()
    const { sealHash, throughPosition } = seal
    this.lastSeal = { position: anchor.position, hash: anchor.hash, sealHash, throughPosition }
    return undefined
  }

  /** Feeds the oldest queued event to the running hash, compacting the queue now and then. */
  private feedOne(): void {
    const index = this.queueStart
    this.hasher.add(this.queuedPositions[index] as number, this.queuedHashes[index] as string)
    this.queueStart += 1
    if (this.queueStart >= sealLagEventsMax) this.compactQueue()
  }

  private compactQueue(): void {
    this.queuedPositions.splice(0, this.queueStart)
    this.queuedHashes.splice(0, this.queueStart)
    this.queueStart = 0
  }
}
