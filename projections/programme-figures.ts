import type { Cents } from '../domain/money'
import { cents, zeroCents } from '../domain/money'
import { accounts, type Posting } from '../domain/postings'
import type { Projection, ProjectedEvent } from './projection'
import { assertInvariant, netCents, noDocs, noKeys, postingsOfProjected, single } from './ledger'

/**
 * The figures of the funding report, kept per programme and per merchant within a programme.
 * Every amount is read off the event's postings: the account says which figure moves and the
 * event type says why (a debit to bonus-outstanding is a redemption, an expiry or a refund's
 * cancellation depending on the event). Two kinds of document share the projection so that one
 * event updates both atomically: the programme's totals under `<programmeId>`, and what
 * happened at each merchant under `<programmeId>/<merchantId>` (ids never contain `/`).
 */
export interface FunderFigures {
  readonly funderId: string
  readonly name: string
  readonly contributionCents: Cents
}

/** A programme's totals: every programme-level figure of the funding report but payouts. */
export interface ProgrammeTotalsDoc {
  readonly scope: 'programme'
  readonly programmeId: string
  readonly name: string
  readonly bonusRateBasisPoints: number
  readonly validFrom: string
  readonly validUntil: string
  readonly funders: Readonly<Record<string, FunderFigures>>
  /** The merchants with a purchase or a bonus redemption in the programme, first seen first. */
  readonly merchantIds: readonly string[]
  readonly budgetCents: Cents
  readonly bonusGrantedCents: Cents
  readonly bonusRedeemedCents: Cents
  readonly bonusExpiredCents: Cents
  /** Unspent bonus that refunds cancelled. */
  readonly bonusReducedCents: Cents
  /** Bonus already spent that refunds took back from the refunded merchant. */
  readonly bonusRecoveredCents: Cents
  readonly bonusOutstandingCents: Cents
  readonly budgetAvailableCents: Cents
  readonly purchaseCount: number
  readonly purchaseCents: Cents
  /** The whole unredeemed part of refunded purchases (customer refund plus bonus recovered). */
  readonly refundedCents: Cents
  /** What refunds paid back to customers: `refundedCents - bonusRecoveredCents`. */
  readonly refundedToCustomersCents: Cents
  readonly purchasedRedeemedCents: Cents
  readonly purchasedExpiredCents: Cents
  readonly purchasedOutstandingCents: Cents
}

/** What happened at one merchant within one programme, for the report's breakdowns. */
export interface ProgrammeMerchantDoc {
  readonly scope: 'merchant'
  readonly programmeId: string
  readonly merchantId: string
  readonly purchaseCount: number
  readonly purchaseCents: Cents
  readonly refundedCents: Cents
  readonly bonusRedeemedCents: Cents
  readonly purchasedRedeemedCents: Cents
  readonly purchasedExpiredCents: Cents
}

/** Either kind of document of the projection, told apart by `scope`. */
export type ProgrammeFiguresDoc = ProgrammeTotalsDoc | ProgrammeMerchantDoc

/** The key of a merchant's figures within a programme. */
export const programmeMerchantKey = (programmeId: string, merchantId: string): string =>
  `${programmeId}/${merchantId}`

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
type NumericKey<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T]

/** Adds to a figure of a document copy the reducer owns; amounts come from postings (cents). */
const add = <Doc>(doc: Mutable<Doc>, figure: NumericKey<Doc>, amount: number): void => {
  const figures = doc as unknown as Record<string, number>
  figures[figure as string] = (figures[figure as string] as number) + amount
}

/** The totals of a programme before any event: every figure zero. */
export const emptyProgrammeTotals = (programmeId: string): ProgrammeTotalsDoc => ({
  scope: 'programme',
  programmeId,
  name: '',
  bonusRateBasisPoints: 0,
  validFrom: '',
  validUntil: '',
  funders: {},
  merchantIds: [],
  budgetCents: zeroCents,
  bonusGrantedCents: zeroCents,
  bonusRedeemedCents: zeroCents,
  bonusExpiredCents: zeroCents,
  bonusReducedCents: zeroCents,
  bonusRecoveredCents: zeroCents,
  bonusOutstandingCents: zeroCents,
  budgetAvailableCents: zeroCents,
  purchaseCount: 0,
  purchaseCents: zeroCents,
  refundedCents: zeroCents,
  refundedToCustomersCents: zeroCents,
  purchasedRedeemedCents: zeroCents,
  purchasedExpiredCents: zeroCents,
  purchasedOutstandingCents: zeroCents,
})

const emptyProgrammeMerchant = (programmeId: string, merchantId: string): ProgrammeMerchantDoc => ({
  scope: 'merchant',
  programmeId,
  merchantId,
  purchaseCount: 0,
  purchaseCents: zeroCents,
  refundedCents: zeroCents,
  bonusRedeemedCents: zeroCents,
  purchasedRedeemedCents: zeroCents,
  purchasedExpiredCents: zeroCents,
})

/** The programme an event moves money of, and the merchant it happened at, if any. */
const placeOf = (event: ProjectedEvent): { programmeId: string; merchantId?: string } | null => {
  switch (event.type) {
    case 'ProgrammeCreated':
    case 'ProgrammeBudgetIncreased':
      return { programmeId: event.data.programmeId }
    case 'VoucherPurchased':
    case 'VoucherRedeemed':
    case 'PurchaseRefunded':
      return { programmeId: event.data.programmeId, merchantId: event.data.merchantId }
    case 'VoucherExpired':
      return event.data.kind === 'purchased'
        ? { programmeId: event.data.programmeId, merchantId: event.data.merchantId }
        : { programmeId: event.data.programmeId }
    default:
      return null
  }
}

const keysOf = (event: ProjectedEvent): readonly string[] => {
  const place = placeOf(event)
  if (place === null) return noKeys
  return place.merchantId === undefined
    ? [place.programmeId]
    : [place.programmeId, programmeMerchantKey(place.programmeId, place.merchantId)]
}

/**
 * Adds the movements of one event to copies of the programme's totals and of the merchant's
 * figures. The event type says which figure a posting moves; the posting gives the amount.
 */
const addMoves = (
  event: ProjectedEvent,
  postings: readonly Posting[],
  totals: Mutable<ProgrammeTotalsDoc>,
  merchant: Mutable<ProgrammeMerchantDoc> | undefined,
): void => {
  const id = totals.programmeId
  const net = (account: string): number => netCents(postings, account)
  const atMerchant = (figure: NumericKey<ProgrammeMerchantDoc>, amount: number) => {
    if (merchant !== undefined) add(merchant, figure, amount)
  }
  const bonusCents = net(accounts.bonusOutstanding(id))

  switch (event.type) {
    case 'ProgrammeCreated':
    case 'ProgrammeBudgetIncreased':
      return add(totals, 'budgetCents', -net(accounts.budgetAvailable(id)))
    case 'VoucherPurchased':
      add(totals, 'bonusGrantedCents', -bonusCents)
      add(totals, 'purchaseCount', 1)
      add(totals, 'purchaseCents', net(accounts.purchasedIssued(id)))
      atMerchant('purchaseCount', 1)
      return atMerchant('purchaseCents', -net(accounts.merchantPayable(event.data.merchantId)))
    case 'VoucherRedeemed':
      if (event.data.kind === 'bonus') {
        add(totals, 'bonusRedeemedCents', bonusCents)
        const payableCents = net(accounts.merchantPayable(event.data.merchantId))
        return atMerchant('bonusRedeemedCents', -payableCents)
      }
      add(totals, 'purchasedRedeemedCents', -net(accounts.purchasedRedeemed(id)))
      return atMerchant('purchasedRedeemedCents', -net(accounts.purchasedRedeemed(id)))
    case 'PurchaseRefunded':
      add(totals, 'bonusReducedCents', bonusCents)
      add(totals, 'bonusRecoveredCents', -net(accounts.budgetAvailable(id)) - bonusCents)
      add(totals, 'refundedCents', -net(accounts.purchasedRefunded(id)))
      add(totals, 'refundedToCustomersCents', -net(accounts.processorClearing))
      return atMerchant('refundedCents', net(accounts.merchantPayable(event.data.merchantId)))
    case 'VoucherExpired':
      if (event.data.kind === 'bonus') return add(totals, 'bonusExpiredCents', bonusCents)
      add(totals, 'purchasedExpiredCents', -net(accounts.purchasedExpired(id)))
      return atMerchant('purchasedExpiredCents', -net(accounts.purchasedExpired(id)))
    default:
      return undefined
  }
}

/** The running balances of the programme's accounts, minus their debit balance. */
const addBalances = (totals: Mutable<ProgrammeTotalsDoc>, postings: readonly Posting[]): void => {
  const id = totals.programmeId
  add(totals, 'bonusOutstandingCents', -netCents(postings, accounts.bonusOutstanding(id)))
  add(totals, 'budgetAvailableCents', -netCents(postings, accounts.budgetAvailable(id)))
  add(totals, 'purchasedOutstandingCents', -netCents(postings, accounts.purchasedOutstanding(id)))
}

/** A programme's descriptive fields and funders' contributions, from the contribution events. */
const addContributions = (
  totals: Mutable<ProgrammeTotalsDoc>,
  event: ProjectedEvent,
  postings: readonly Posting[],
): void => {
  if (event.type !== 'ProgrammeCreated' && event.type !== 'ProgrammeBudgetIncreased') return
  const named =
    event.type === 'ProgrammeCreated'
      ? event.data.funders.map((f) => ({ funderId: f.funderId, name: f.name }))
      : [{ funderId: event.data.funderId, name: totals.funders[event.data.funderId]?.name }]

  const funders = { ...totals.funders }
  const seen = new Set<string>()
  for (const { funderId, name } of named) {
    if (seen.has(funderId)) continue
    seen.add(funderId)
    const before = funders[funderId]
    const account = accounts.funderContributions(totals.programmeId, funderId)
    const movedCents = netCents(postings, account)
    const contributionCents = cents((before?.contributionCents ?? 0) + movedCents)
    funders[funderId] = { funderId, name: name ?? before?.name ?? funderId, contributionCents }
  }
  totals.funders = funders
  if (event.type !== 'ProgrammeCreated') return
  totals.name = event.data.name
  totals.bonusRateBasisPoints = event.data.bonusRateBasisPoints
  totals.validFrom = event.data.validFrom
  totals.validUntil = event.data.validUntil
}

const apply = (
  event: ProjectedEvent,
  current: ReadonlyMap<string, ProgrammeFiguresDoc | undefined>,
): ReadonlyMap<string, ProgrammeFiguresDoc> => {
  const place = placeOf(event)
  if (place === null) return noDocs
  const { programmeId, merchantId } = place
  const postings = postingsOfProjected(event)

  const before = current.get(programmeId)
  const totals = { ...(before?.scope === 'programme' ? before : emptyProgrammeTotals(programmeId)) }
  const key = merchantId === undefined ? undefined : programmeMerchantKey(programmeId, merchantId)
  const merchantBefore = key === undefined ? undefined : current.get(key)
  const merchant =
    merchantId === undefined
      ? undefined
      : {
          ...(merchantBefore?.scope === 'merchant'
            ? merchantBefore
            : emptyProgrammeMerchant(programmeId, merchantId)),
        }

  addContributions(totals, event, postings)
  addMoves(event, postings, totals, merchant)
  addBalances(totals, postings)
  assertFundingIdentities(totals)
  if (key === undefined || merchant === undefined) return single(programmeId, totals)

  if (merchantBefore === undefined) {
    totals.merchantIds = [...totals.merchantIds, merchant.merchantId]
  }
  return new Map<string, ProgrammeFiguresDoc>([
    [programmeId, totals],
    [key, merchant],
  ])
}

/**
 * The two identities of API.md and rule 1 (public money is never overspent). They hold by
 * construction when every event's postings balance; a failure means an event broke that.
 */
export const assertFundingIdentities = (doc: ProgrammeTotalsDoc): void => {
  const id = doc.programmeId
  const accountedCents =
    doc.bonusRedeemedCents +
    doc.bonusOutstandingCents +
    doc.bonusExpiredCents +
    doc.bonusReducedCents
  assertInvariant(
    doc.bonusGrantedCents === accountedCents,
    () => `programme ${id}: bonus granted ${doc.bonusGrantedCents} != ${accountedCents}`,
  )
  const availableCents =
    doc.budgetCents -
    doc.bonusGrantedCents +
    doc.bonusExpiredCents +
    doc.bonusReducedCents +
    doc.bonusRecoveredCents
  assertInvariant(
    doc.budgetAvailableCents === availableCents,
    () => `programme ${id}: available ${doc.budgetAvailableCents} != ${availableCents}`,
  )
  assertInvariant(
    doc.budgetAvailableCents >= 0 && doc.bonusOutstandingCents >= 0,
    () => `programme ${id}: budget or bonus outstanding below zero`,
  )
}

/** Keyed by programme id (totals) and `<programmeId>/<merchantId>` (figures at a merchant). */
export const programmeFiguresProjection: Projection<ProgrammeFiguresDoc> = {
  name: 'programme-figures',
  version: 1,
  eventTypes: [
    'ProgrammeCreated',
    'ProgrammeBudgetIncreased',
    'VoucherPurchased',
    'VoucherRedeemed',
    'PurchaseRefunded',
    'VoucherExpired',
  ],
  keysOf,
  apply,
}
