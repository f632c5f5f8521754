import type { Cents } from '../domain/money'
import { cents, zeroCents } from '../domain/money'
import { accounts } from '../domain/postings'
import type { Projection, ProjectedEvent } from './projection'
import { assertInvariant, netCents, noDocs, noKeys, postingsOfProjected, single } from './ledger'

/**
 * What each merchant is owed, as `GET /v1/merchants/:id/balance` answers it. Every figure is
 * read off the merchant's postings: `owedCents` is minus the balance of its payable account,
 * `inFlightCents` minus the balance of its payout-in-flight account, and the other figures split
 * the payable's movements by the kind of event that made them. The API's identity
 * `owed = purchase - refunded + bonusRedeemed - paidOut - inFlight` is asserted after each event.
 */
export interface MerchantBalanceDoc {
  readonly merchantId: string
  /** Purchase money owed to the merchant at the purchases made there. */
  readonly purchaseCents: Cents
  /** The whole unredeemed part of refunded purchases, which the merchant gives back. */
  readonly refundedCents: Cents
  /** Bonus vouchers spent there: public money owed to the merchant. */
  readonly bonusRedeemedCents: Cents
  /** Payouts the processor confirmed paid (and not failed later). */
  readonly paidOutCents: Cents
  /** Payouts sent and not yet confirmed or failed. */
  readonly inFlightCents: Cents
  /** What remains to pay; negative when refunds took back more than was left to pay. */
  readonly owedCents: Cents
}

/** The balance of a merchant no money has moved for yet: what a new merchant is owed. */
export const emptyMerchantBalance = (merchantId: string): MerchantBalanceDoc => ({
  merchantId,
  purchaseCents: zeroCents,
  refundedCents: zeroCents,
  bonusRedeemedCents: zeroCents,
  paidOutCents: zeroCents,
  inFlightCents: zeroCents,
  owedCents: zeroCents,
})

/** The merchant whose accounts an event moves, for the events that move any. */
const merchantOf = (event: ProjectedEvent): string | undefined => {
  switch (event.type) {
    case 'VoucherPurchased':
    case 'PurchaseRefunded':
    case 'PayoutScheduled':
    case 'PayoutNoticeRecorded':
      return event.data.merchantId
    case 'VoucherRedeemed':
      return event.data.kind === 'bonus' ? event.data.merchantId : undefined
    default:
      return undefined
  }
}

const keysOf = (event: ProjectedEvent): readonly string[] => {
  const merchantId = merchantOf(event)
  return merchantId === undefined ? noKeys : [merchantId]
}

/** How the payable's movement of one event splits into the balance's figures. */
const figuresMoved = (
  event: ProjectedEvent,
  payableCents: number,
  clearingCents: number,
): Partial<Record<keyof MerchantBalanceDoc, number>> => {
  switch (event.type) {
    case 'VoucherPurchased':
      return { purchaseCents: -payableCents }
    case 'VoucherRedeemed':
      return { bonusRedeemedCents: -payableCents }
    case 'PurchaseRefunded':
      return { refundedCents: payableCents }
    case 'PayoutNoticeRecorded':
      return { paidOutCents: -clearingCents }
    default:
      return {}
  }
}

const apply = (
  event: ProjectedEvent,
  current: ReadonlyMap<string, MerchantBalanceDoc | undefined>,
): ReadonlyMap<string, MerchantBalanceDoc> => {
  const merchantId = merchantOf(event)
  if (merchantId === undefined) return noDocs
  const postings = postingsOfProjected(event)
  if (postings.length === 0) return noDocs

  const doc = current.get(merchantId) ?? emptyMerchantBalance(merchantId)
  const payableCents = netCents(postings, accounts.merchantPayable(merchantId))
  const inFlightCents = netCents(postings, accounts.merchantPayoutInFlight(merchantId))
  const clearingCents =
    event.type === 'PayoutNoticeRecorded' ? netCents(postings, accounts.processorClearing) : 0
  const moved = figuresMoved(event, payableCents, clearingCents)

  const next: MerchantBalanceDoc = {
    merchantId,
    purchaseCents: cents(doc.purchaseCents + (moved.purchaseCents ?? 0)),
    refundedCents: cents(doc.refundedCents + (moved.refundedCents ?? 0)),
    bonusRedeemedCents: cents(doc.bonusRedeemedCents + (moved.bonusRedeemedCents ?? 0)),
    paidOutCents: cents(doc.paidOutCents + (moved.paidOutCents ?? 0)),
    inFlightCents: cents(doc.inFlightCents - inFlightCents),
    owedCents: cents(doc.owedCents - payableCents),
  }
  assertBalanceIdentity(next)
  return single(merchantId, next)
}

/** The identity of API.md; it holds because the postings of every event balance. */
export const assertBalanceIdentity = (doc: MerchantBalanceDoc): void => {
  const expectedCents =
    doc.purchaseCents -
    doc.refundedCents +
    doc.bonusRedeemedCents -
    doc.paidOutCents -
    doc.inFlightCents
  assertInvariant(
    expectedCents === doc.owedCents,
    () => `merchant ${doc.merchantId} owes ${doc.owedCents}, figures say ${expectedCents}`,
  )
  assertInvariant(
    doc.inFlightCents >= 0,
    () => `merchant ${doc.merchantId} has ${doc.inFlightCents} in flight`,
  )
}

/** Keyed by merchant id; a merchant appears with its first movement of money. */
export const merchantBalancesProjection: Projection<MerchantBalanceDoc> = {
  name: 'merchant-balances',
  version: 1,
  eventTypes: [
    'VoucherPurchased',
    'PurchaseRefunded',
    'PayoutScheduled',
    'PayoutNoticeRecorded',
    'VoucherRedeemed',
  ],
  keysOf,
  apply,
}
