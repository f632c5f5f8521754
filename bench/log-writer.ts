import * as E from 'fp-ts/Either'
import { v5 as uuidV5 } from 'uuid'
import type { CommandContext, Decision, Rejection, StreamEvent } from '../domain/decider'
import type { LedgerEvent } from '../domain/events'
import { parseAccount, postingsOf, type ParsedAccount } from '../domain/postings'
import { streams } from '../domain/streams'
import { instantOf, type Instant } from '../domain/time'
import { foldFor } from '../src/app/ledger'
import { buildEventToAppend, buildStreamEvents } from '../src/audit/chain'
import { canonicalJson, sha256Hex, zeroHash } from '../src/audit/hash'
import { SealHasher, sealEventId, sealEventType, sealStreamId } from '../src/audit/seal'
import type { AppendResult, EventToAppend, StreamAppend } from '../src/store/port'
import type { SqliteEventStore } from '../src/store/sqlite'

/**
 * Writes a generated ledger the way the service would have: every command is decided by the
 * real decider on the states folded by the real folds (`foldFor`), its events are built and
 * chained by `buildStreamEvents`, its first answer is recorded as `CommandAccepted` on its
 * idempotency stream, and the log is sealed every `sealIntervalEvents` events as the sealer
 * does. Only the HTTP edge and the executor's locks and caches are skipped, which is what makes
 * a million events take a minute rather than the better part of an hour.
 */

/** The command handler's namespace for event ids (src/app/executor.ts), so ids look the same. */
const eventIdNamespace = '6f1c0a52-3f0e-5b7c-9a4e-2d8b1e7c4a90'

/** What a command asks of the writer: mirrors a `CommandRequest` of src/app/executor.ts. */
export interface GeneratedCommand {
  readonly commandType: string
  readonly commandId: string
  /** Idempotency keys with the request each stands for (hashed as src/app/ledger.ts does). */
  readonly keys: readonly { readonly key: string; readonly request: unknown }[]
  readonly actor: string
  /** The processor's own time for its notices; otherwise the writer's clock. */
  readonly occurredAt?: Instant
  readonly decide: (
    state: (streamId: string) => unknown,
    context: CommandContext,
  ) => E.Either<Rejection, Decision<unknown>>
}

/** What every event of one command shares in its metadata. */
type CommandMetadata = Omit<
  Parameters<typeof buildEventToAppend>[0],
  'streamId' | 'revision' | 'previousHash' | 'eventId' | 'type' | 'data'
>

interface StreamTip {
  readonly revision: number
  readonly hash: string
  readonly state: unknown
}

export class LogWriter {
  /** The position of the last event handed to the store. */
  position = 0
  private readonly tips = new Map<string, StreamTip>()
  private readonly parsedAccounts = new Map<string, ParsedAccount | null>()
  private readonly owed = new Map<string, number>()
  private pending: Promise<void>[] = []
  private seal = { revision: -1, eventHash: zeroHash, hasher: new SealHasher(0, zeroHash) }
  private unsealedCount = 0

  constructor(
    private readonly store: SqliteEventStore,
    private readonly sealIntervalEvents: number,
    private readonly commandsPerFlush: number,
    /** The writer's clock: every command happens at `nowMs()`. */
    private readonly nowMs: () => number,
  ) {}

  /** The folded state of a stream the writer still remembers (see `forget`). */
  state<S>(streamId: string): S {
    const tip = this.tips.get(streamId)
    return (tip === undefined ? foldFor(streamId).initial : tip.state) as S
  }

  /** Drops a stream's state once no later command reads it, to keep memory flat. */
  forget(streamId: string): void {
    this.tips.delete(streamId)
  }

  /** What each merchant is owed: the credit balance of its payable account, as PayablesFold. */
  owedByMerchant(): ReadonlyMap<string, number> {
    return this.owed
  }

  /** Decides a command, appends its events without waiting, and seals when a range is full. */
  async execute(command: GeneratedCommand): Promise<unknown> {
    const recordedAt = instantOf(this.nowMs())
    const context: CommandContext = {
      recordedAt,
      occurredAt: command.occurredAt ?? recordedAt,
      occurredAtStated: false,
    }
    const decision = command.decide((streamId) => this.state(streamId), context)
    if (E.isLeft(decision)) {
      throw new Error(`generated ${command.commandType} refused: ${JSON.stringify(decision.left)}`)
    }
    const metadata = {
      occurredAt: context.occurredAt,
      recordedAt,
      commandId: command.commandId,
      causationId: command.commandId,
      correlationId: `${command.commandId}/correlation`,
      actor: command.actor,
    }
    const appends = [...decision.right.appends, ...keyAppends(command, decision.right.response)]
    this.append(appends.map((append) => this.built(append, command.commandId, metadata)))
    if (this.unsealedCount >= this.sealIntervalEvents) this.appendSeal(recordedAt)
    if (this.pending.length >= this.commandsPerFlush) await this.flush()
    return decision.right.response
  }

  /** Seals what is unsealed and waits until every append is durable. */
  async finish(): Promise<void> {
    if (this.unsealedCount > 0) this.appendSeal(instantOf(this.nowMs()))
    await this.flush()
  }

  private async flush(): Promise<void> {
    const pending = this.pending
    this.pending = []
    await Promise.all(pending)
  }

  /** Builds one stream's events on its tip and moves the tip and the folded state on. */
  private built(
    append: { readonly streamId: string; readonly events: readonly LedgerEvent[] },
    commandId: string,
    metadata: CommandMetadata,
  ): StreamAppend {
    const { streamId } = append
    const tip = this.tips.get(streamId)
    const events = buildStreamEvents(
      { streamId, nextRevision: (tip?.revision ?? -1) + 1, previousHash: tip?.hash ?? zeroHash },
      append.events.map((event, index) => ({
        ...metadata,
        eventId: uuidV5(`${commandId}/${streamId}/${index}`, eventIdNamespace),
        type: event.type,
        data: event.data,
      })),
    )
    const last = events[events.length - 1] as EventToAppend
    // Idempotency streams are written once and never read again by the generator.
    if (!streamId.startsWith('idempotency-')) {
      const fold = foldFor(streamId)
      let state = tip?.state ?? fold.initial
      for (const event of events) state = fold.evolve(state, event as unknown as StreamEvent)
      const revision = (tip?.revision ?? -1) + events.length
      this.tips.set(streamId, { revision, hash: last.metadata.hash, state })
    }
    const expectedRevision = tip === undefined ? 'no_stream' : tip.revision
    return { streamId, expectedRevision, events }
  }

  /** Hands one call to the store and accounts for its events: positions, seal range, payables. */
  private append(appends: readonly StreamAppend[]): void {
    for (const append of appends) {
      for (const event of append.events) {
        this.position += 1
        this.seal.hasher.add(this.position, event.metadata.hash)
        if (append.streamId !== sealStreamId) this.unsealedCount += 1
        this.foldPayables({ type: event.type, data: event.data } as LedgerEvent)
      }
    }
    const expectedPosition = this.position
    this.pending.push(
      this.store.appendToStreams(appends).then((result: AppendResult) => {
        if (result.position !== expectedPosition) {
          const detail = `appended at ${result.position}, not ${expectedPosition}`
          throw new Error(`assertion failed: ${detail}`)
        }
      }),
    )
  }

  private foldPayables(event: LedgerEvent): void {
    for (const posting of postingsOf(event)) {
      let account = this.parsedAccounts.get(posting.account)
      if (account === undefined) {
        account = parseAccount(posting.account) ?? null
        this.parsedAccounts.set(posting.account, account)
      }
      if (account?.kind !== 'merchantPayable' || account.merchantId === undefined) continue
      const before = this.owed.get(account.merchantId) ?? 0
      this.owed.set(account.merchantId, before - posting.amountCents)
    }
  }

  /** A seal over the range so far, exactly as src/audit/seal.ts writes it. */
  private appendSeal(at: Instant): void {
    const hasher = this.seal.hasher
    const fromPosition = hasher.fromPosition
    const throughPosition = hasher.lastAddedPosition
    const data = {
      fromPosition,
      throughPosition,
      eventCount: hasher.eventCount,
      sealHash: hasher.digest(throughPosition),
      previousSealHash: hasher.previousSealHash,
    }
    const id = sealEventId(fromPosition, throughPosition)
    const event = buildEventToAppend({
      streamId: sealStreamId,
      revision: this.seal.revision + 1,
      previousHash: this.seal.eventHash,
      eventId: id,
      type: sealEventType,
      data,
      occurredAt: at,
      recordedAt: at,
      commandId: id,
      causationId: id,
      correlationId: id,
      actor: 'system:sealer',
    })
    const expectedRevision = this.seal.revision < 0 ? 'no_stream' : this.seal.revision
    this.seal = {
      revision: this.seal.revision + 1,
      eventHash: event.metadata.hash,
      hasher: new SealHasher(throughPosition, data.sealHash),
    }
    this.unsealedCount = 0
    this.append([{ streamId: sealStreamId, expectedRevision, events: [event] }])
  }
}

/** The `CommandAccepted` of each idempotency key, as the executor appends them. */
const keyAppends = (command: GeneratedCommand, response: unknown) =>
  command.keys.map(({ key, request }) => ({
    streamId: streams.idempotency(key),
    events: [
      {
        type: 'CommandAccepted',
        data: {
          idempotencyKey: key,
          requestHash: sha256Hex(canonicalJson(request)),
          commandType: command.commandType,
          response: response as Record<string, unknown>,
        },
      } as LedgerEvent,
    ],
  }))
