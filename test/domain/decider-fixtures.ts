import * as E from 'fp-ts/Either'
import type { CommandContext, Decision, Rejection, StreamEvent } from '../../domain/decider'
import {
  eventCodecs,
  type EventDataOf,
  type EventType,
  type LedgerEvent,
} from '../../domain/events'
import { Id } from '../../domain/ids'
import { evolveMerchant, initialMerchantState, type MerchantState } from '../../domain/merchant'
import { cents, type Cents } from '../../domain/money'
import {
  evolvePayout,
  evolvePayoutsLedger,
  initialPayoutState,
  initialPayoutsLedgerState,
  type PayoutState,
  type PayoutsLedgerState,
} from '../../domain/payout'
import { evolveProgramme, initialProgrammeState, type ProgrammeState } from '../../domain/programme'
import { evolveStock, initialStockState, type StockState } from '../../domain/stock'
import { streams } from '../../domain/streams'
import { CalendarDate, Instant } from '../../domain/time'
import {
  decideVoucherPurchase,
  evolveVoucher,
  initialVoucherState,
  type PurchaseVoucher,
  type PurchaseVoucherResponse,
  type VoucherState,
} from '../../domain/voucher'

/**
 * Builders the decider tests share: given events (each with the instant it happened), a command
 * context with an injected clock, and the standard programme and merchants of the scenarios.
 * Values are checked with the domain's own codecs, so a fixture cannot hold what a caller could
 * never send.
 */

export const id = (value: string): Id => {
  if (!Id.is(value)) throw new Error(`fixture: ${value} is not an id`)
  return value
}

export const at = (value: string): Instant => {
  if (!Instant.is(value)) throw new Error(`fixture: ${value} is not an instant`)
  return value
}

export const day = (value: string): CalendarDate => {
  if (!CalendarDate.is(value)) throw new Error(`fixture: ${value} is not a date`)
  return value
}

export { cents }

/** An event of type K, typed by its data. */
export const event = <K extends EventType>(type: K, data: EventDataOf<K>): LedgerEvent =>
  ({ type, data }) as LedgerEvent

/** An event as the shell folds it: with the instant it happened in its metadata. */
export const occurred = (ledgerEvent: LedgerEvent, occurredAt: string): StreamEvent => ({
  ...ledgerEvent,
  metadata: { occurredAt: at(occurredAt) },
})

/** The state a stream folds to from events that all happened at `occurredAt`. */
export const given = <S>(
  evolve: (state: S, streamEvent: StreamEvent) => S,
  initial: S,
  events: readonly LedgerEvent[],
  occurredAt = setUpAt,
): S => events.reduce((state, e) => evolve(state, occurred(e, occurredAt)), initial)

/** When the scenarios' set-up happened: a spring morning of the 2020 season. */
export const setUpAt = '2020-05-15T08:00:00.000Z'

/** When the scenarios' commands are received, inside the season. */
export const nowAt = '2020-07-01T10:00:00.000Z'

/** A context for a command received at `recordedAt`, stated to have happened at `occurredAt`. */
export const context = (
  occurredAt = nowAt,
  options: { readonly recordedAt?: string; readonly stated?: boolean } = {},
): CommandContext => ({
  occurredAt: at(occurredAt),
  recordedAt: at(options.recordedAt ?? occurredAt),
  occurredAtStated: options.stated ?? options.recordedAt !== undefined,
})

/** A stated `occurredAt` later than `recordedAt`: in the future. */
export const futureContext = (): CommandContext =>
  context('2020-07-01T10:00:00.001Z', { recordedAt: nowAt, stated: true })

/** The rejection of a result, failing loudly when the command was accepted. */
export const rejectionOf = <R>(result: E.Either<Rejection, Decision<R>>): Rejection => {
  if (E.isRight(result)) throw new Error('expected a rejection, the command was accepted')
  return result.left
}

export const codeOf = <R>(result: E.Either<Rejection, Decision<R>>): string =>
  rejectionOf(result).code

/**
 * The decision of an accepted command, with every event checked against its codec: a decider
 * must never produce an event the store would refuse.
 */
export const decisionOf = <R>(result: E.Either<Rejection, Decision<R>>): Decision<R> => {
  if (E.isLeft(result)) {
    throw new Error(`expected acceptance, got ${result.left.code}: ${result.left.detail}`)
  }
  for (const append of result.right.appends) {
    for (const e of append.events) {
      const decoded = eventCodecs[e.type].decode(e.data)
      if (E.isLeft(decoded)) throw new Error(`${e.type} on ${append.streamId} fails its codec`)
    }
  }
  return result.right
}

/** The events a decision appends to one stream (empty when it appends none there). */
export const eventsOn = <R>(decision: Decision<R>, streamId: string): readonly LedgerEvent[] =>
  decision.appends.filter((append) => append.streamId === streamId).flatMap((a) => a.events)

/** Folds the events a decision appends to one stream onto its state, as the shell would. */
export const after = <S, R>(
  evolve: (state: S, streamEvent: StreamEvent) => S,
  state: S,
  decision: Decision<R>,
  streamId: string,
  occurredAt = nowAt,
): S => given(evolve, state, eventsOn(decision, streamId), occurredAt)

// ---- the standard scenario ----

export const programmeId = id('moselle-sud-2020')
export const merchantM = id('boulangerie-m')
export const merchantN = id('librairie-n')
export const customerId = id('customer-1')

/** The 2020 season: 25 % bonus, 10,000.00 EUR from two funders, valid until 31 December. */
export const programmeCreated = (
  overrides: Partial<EventDataOf<'ProgrammeCreated'>> = {},
): LedgerEvent =>
  event('ProgrammeCreated', {
    programmeId,
    name: 'Bons d’achat Moselle Sud 2020',
    bonusRateBasisPoints: 2500,
    validFrom: day('2020-05-01'),
    validUntil: day('2020-12-31'),
    funders: [
      { funderId: id('cc-sarrebourg'), name: 'CC Sarrebourg', contributionCents: c(600_000) },
      { funderId: id('region-ge'), name: 'Région Grand Est', contributionCents: c(400_000) },
    ],
    minVoucherCents: null,
    maxVoucherCents: null,
    maxBonusPerCustomerCents: null,
    ...overrides,
  })

/** A merchant of Sarrebourg, registered and active. */
export const merchantRegistered = (merchantId: Id): LedgerEvent =>
  event('MerchantRegistered', {
    merchantId,
    legalName: `SARL ${merchantId}`,
    siret: '73282932000074',
    communeCode: '57630',
    communeName: 'Sarrebourg',
    groupingSiren: '200068146',
    groupingName: 'CC Sarrebourg Moselle Sud',
    category: 'retail',
    employees: 3,
    salesAreaM2: 80,
    annualTurnoverCents: c(25_000_000),
  })

export const merchantSuspended = (merchantId: Id): LedgerEvent =>
  event('MerchantSuspended', { merchantId, reason: 'inspection' })

/**
 * The streams of a scenario in memory, folded on demand with each aggregate's `evolve`: the
 * least of the shell that lets a test say "given these events, when this command".
 */
export class TestLedger {
  private readonly byStream = new Map<string, StreamEvent[]>()

  /** Appends events to a stream as if they happened at `occurredAt`. */
  record(streamId: string, events: readonly LedgerEvent[], occurredAt = setUpAt): this {
    const stream = this.byStream.get(streamId) ?? []
    stream.push(...events.map((e) => occurred(e, occurredAt)))
    this.byStream.set(streamId, stream)
    return this
  }

  /** Appends what an accepted command decided, and gives the decision back. */
  apply<R>(result: E.Either<Rejection, Decision<R>>, occurredAt = nowAt): Decision<R> {
    const decision = decisionOf(result)
    for (const append of decision.appends) this.record(append.streamId, append.events, occurredAt)
    return decision
  }

  events(streamId: string): readonly LedgerEvent[] {
    const stream = this.byStream.get(streamId) ?? []
    return stream.map(({ type, data }) => ({ type, data }) as LedgerEvent)
  }

  fold<S>(streamId: string, evolve: (s: S, e: StreamEvent) => S, initial: S): S {
    return (this.byStream.get(streamId) ?? []).reduce(evolve, initial)
  }

  programme(programme: string = programmeId): ProgrammeState {
    return this.fold(streams.programme(programme), evolveProgramme, initialProgrammeState)
  }

  merchant(merchantId: string): MerchantState {
    return this.fold(streams.merchant(merchantId), evolveMerchant, initialMerchantState)
  }

  voucher(voucherId: string): VoucherState {
    return this.fold(streams.voucher(voucherId), evolveVoucher, initialVoucherState)
  }

  payout(payoutId: string): PayoutState {
    return this.fold(streams.payout(payoutId), evolvePayout, initialPayoutState)
  }

  payoutsLedger(): PayoutsLedgerState {
    return this.fold(streams.payoutsLedger(), evolvePayoutsLedger, initialPayoutsLedgerState)
  }

  stock(merchantId: string, sku: string): StockState {
    return this.fold(streams.stock(merchantId, sku), evolveStock, initialStockState)
  }
}

/** The 2020 season with merchants M and N registered. */
export const seasonLedger = (
  overrides: Partial<EventDataOf<'ProgrammeCreated'>> = {},
): TestLedger =>
  new TestLedger()
    .record(streams.programme(programmeId), [programmeCreated(overrides)])
    .record(streams.merchant(merchantM), [merchantRegistered(merchantM)])
    .record(streams.merchant(merchantN), [merchantRegistered(merchantN)])

/** A purchase of 100.00 EUR at M by the scenario's customer; voucher ids `V-<id>`, `B-<id>`. */
export const purchaseCommand = (
  purchaseId: string,
  overrides: Partial<PurchaseVoucher> = {},
): PurchaseVoucher => ({
  purchaseId: id(purchaseId),
  programmeId,
  merchantId: merchantM,
  customerId,
  amountCents: c(10_000),
  paymentReference: `psp-${purchaseId}`,
  voucherId: id(`V-${purchaseId}`),
  bonusVoucherId: id(`B-${purchaseId}`),
  ...overrides,
})

/** Decides a purchase on the ledger's current states. */
export const purchase = (
  ledger: TestLedger,
  command: PurchaseVoucher,
  commandContext = context(),
): E.Either<Rejection, Decision<PurchaseVoucherResponse>> =>
  decideVoucherPurchase(
    command,
    ledger.programme(command.programmeId),
    ledger.merchant(command.merchantId),
    commandContext,
  )

function c(n: number): Cents {
  return cents(n)
}
