import * as t from 'io-ts'
import { NonNegativeCents, PositiveCents, SignedCents, BasisPoints } from './money'
import { Id } from './ids'
import { CalendarDate, Instant } from './time'

/**
 * Every event of the ledger, one io-ts codec each. Events are decoded with these codecs when
 * they are written and again when they are read back, so a stored event that no longer matches
 * its codec is found instead of being trusted. Event names are past tense; `type` on the
 * envelope is the name; `data` is what is below.
 *
 * Money moves only on the events marked "moves money"; `domain/postings.ts` maps exactly those
 * to double-entry postings, so every figure of the ledger comes from one place.
 */

const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'Count')
const Text = t.string

export const merchantCategories = [
  'retail',
  'food',
  'restaurant',
  'bar',
  'cafe',
  'tourism',
  'services',
] as const
export const MerchantCategory = t.keyof({
  retail: null,
  food: null,
  restaurant: null,
  bar: null,
  cafe: null,
  tourism: null,
  services: null,
})
export type MerchantCategory = t.TypeOf<typeof MerchantCategory>

export const Funder = t.type({ funderId: Id, name: Text, contributionCents: PositiveCents })
export type Funder = t.TypeOf<typeof Funder>

// ---- programme-<programmeId> ----

/** A funding programme was set up with its funders' contributions as its budget. Moves money. */
export const ProgrammeCreated = t.type({
  programmeId: Id,
  name: Text,
  bonusRateBasisPoints: BasisPoints,
  validFrom: CalendarDate,
  validUntil: CalendarDate,
  funders: t.array(Funder),
  minVoucherCents: t.union([PositiveCents, t.null]),
  maxVoucherCents: t.union([PositiveCents, t.null]),
  maxBonusPerCustomerCents: t.union([NonNegativeCents, t.null]),
})

/** A funder added to a programme's budget. Moves money. */
export const ProgrammeBudgetIncreased = t.type({
  programmeId: Id,
  increaseId: Id,
  funderId: Id,
  amountCents: PositiveCents,
})

/**
 * The programme's side of a purchase: budget taken for the bonus, and the customer's running
 * total for the per-customer cap. No postings: `VoucherPurchased` carries them.
 */
export const BonusGranted = t.type({
  programmeId: Id,
  purchaseId: Id,
  customerId: Id,
  merchantId: Id,
  voucherId: Id,
  bonusVoucherId: t.union([Id, t.null]),
  requestedBonusCents: NonNegativeCents,
  bonusCents: NonNegativeCents,
})

/**
 * The programme's side of a refund: budget given back (unspent bonus cancelled plus spent bonus
 * recovered) and the customer's cap lowered. No postings: `PurchaseRefunded` carries them.
 */
export const BonusReleased = t.type({
  programmeId: Id,
  purchaseId: Id,
  refundId: Id,
  customerId: Id,
  cancelledCents: NonNegativeCents,
  recoveredCents: NonNegativeCents,
})

/** An expiry run finished: the totals of the `VoucherExpired` events it wrote. */
export const ExpiryRunCompleted = t.type({
  programmeId: Id,
  runId: Id,
  expiredVoucherCount: Count,
  expiredBonusCents: NonNegativeCents,
  expiredPurchasedCents: NonNegativeCents,
})

// ---- merchant-<merchantId> ----

/** An eligible small business joined the scheme, in a commune of one of the groupings. */
export const MerchantRegistered = t.type({
  merchantId: Id,
  legalName: Text,
  siret: t.string,
  communeCode: t.string,
  communeName: Text,
  groupingSiren: t.string,
  groupingName: Text,
  category: MerchantCategory,
  employees: Count,
  salesAreaM2: Count,
  annualTurnoverCents: NonNegativeCents,
})

export const MerchantSuspended = t.type({ merchantId: Id, reason: Text })
export const MerchantReinstated = t.type({ merchantId: Id, reason: Text })

// ---- voucher-<voucherId> ----

export const VoucherKind = t.keyof({ purchased: null, bonus: null })
export type VoucherKind = t.TypeOf<typeof VoucherKind>

/**
 * A customer paid for a voucher at a merchant, and earned the bonus of `BonusGranted`.
 * Lives on the purchased voucher's stream. Moves money: the purchase money owed to the merchant
 * and the bonus taken from the budget.
 */
export const VoucherPurchased = t.type({
  purchaseId: Id,
  programmeId: Id,
  merchantId: Id,
  customerId: Id,
  voucherId: Id,
  bonusVoucherId: t.union([Id, t.null]),
  amountCents: PositiveCents,
  bonusCents: NonNegativeCents,
  requestedBonusCents: NonNegativeCents,
  paymentReference: Text,
  validUntil: CalendarDate,
})

/**
 * The bonus voucher of a purchase came into being. Lives on the bonus voucher's stream; no
 * postings (`VoucherPurchased` carries them). `merchantId` is where it may NOT be spent.
 */
export const BonusVoucherIssued = t.type({
  purchaseId: Id,
  programmeId: Id,
  merchantId: Id,
  customerId: Id,
  voucherId: Id,
  purchasedVoucherId: Id,
  valueCents: PositiveCents,
  validUntil: CalendarDate,
})

/** Part or all of a voucher was spent at a merchant. Moves money. */
export const VoucherRedeemed = t.type({
  redemptionId: Id,
  voucherId: Id,
  kind: VoucherKind,
  programmeId: Id,
  merchantId: Id,
  amountCents: PositiveCents,
  remainingCents: NonNegativeCents,
})

/**
 * A purchase was refunded (rule 6 of DOMAIN.md). Lives on the purchased voucher's stream.
 * Moves money: the merchant gives back `unredeemedCents`, of which the customer receives
 * `refundedCents` and the programme `recoveredCents`; `bonusCancelledCents` of unspent bonus
 * go back to the budget.
 */
export const PurchaseRefunded = t.type({
  refundId: Id,
  purchaseId: Id,
  programmeId: Id,
  merchantId: Id,
  customerId: Id,
  voucherId: Id,
  bonusVoucherId: t.union([Id, t.null]),
  unredeemedCents: NonNegativeCents,
  refundedCents: NonNegativeCents,
  recoveredCents: NonNegativeCents,
  bonusCancelledCents: NonNegativeCents,
  newBonusEntitlementCents: NonNegativeCents,
})

/** The unspent bonus a refund cancelled, on the bonus voucher's stream. No postings. */
export const BonusVoucherReduced = t.type({
  refundId: Id,
  voucherId: Id,
  purchaseId: Id,
  reducedCents: NonNegativeCents,
  remainingCents: NonNegativeCents,
})

/**
 * What remained on a voucher at the end of its validity. Moves money: an unspent bonus goes
 * back to the budget; what remains of a purchased voucher stays with the merchant (breakage).
 */
export const VoucherExpired = t.type({
  runId: Id,
  voucherId: Id,
  kind: VoucherKind,
  programmeId: Id,
  merchantId: Id,
  expiredCents: NonNegativeCents,
})

// ---- payout-<payoutId> and payouts-ledger ----

/** A payout run decided to pay a merchant what it is owed; the money is in flight. */
export const PayoutScheduled = t.type({
  payoutId: Id,
  runId: Id,
  merchantId: Id,
  amountCents: PositiveCents,
})

/** A payout run finished; on the `payouts-ledger` stream that serialises payout runs. */
export const PayoutRunCompleted = t.type({
  runId: Id,
  payoutIds: t.array(Id),
  totalCents: NonNegativeCents,
})

export const PayoutStatus = t.keyof({ in_flight: null, paid: null, failed: null })
export type PayoutStatus = t.TypeOf<typeof PayoutStatus>

/**
 * The processor reported a payout paid or failed. Notices arrive late, twice and out of order,
 * so the effect follows `noticeOccurredAt`: the status moves from `statusBefore` to
 * `statusAfter` (the same when an older notice arrives after a newer one). Moves money when the
 * status changes.
 */
export const PayoutNoticeRecorded = t.type({
  payoutId: Id,
  merchantId: Id,
  amountCents: PositiveCents,
  processorEventId: Id,
  outcome: t.keyof({ paid: null, failed: null }),
  reason: t.union([Text, t.null]),
  noticeOccurredAt: Instant,
  statusBefore: PayoutStatus,
  statusAfter: PayoutStatus,
})

// ---- stock-<merchantId>/<sku> ----

export const StockMovementKind = t.keyof({
  received: null,
  adjusted: null,
  reserved: null,
  released: null,
  sold: null,
})
export type StockMovementKind = t.TypeOf<typeof StockMovementKind>

/**
 * One stock movement of a merchant's e-shop, with the levels after it. `quantity` is signed for
 * `adjusted` only. A sale fulfils reservations first (click & collect pickups).
 */
export const StockMoved = t.type({
  movementId: Id,
  merchantId: Id,
  sku: Id,
  kind: StockMovementKind,
  quantity: t.refinement(t.number, Number.isSafeInteger, 'Quantity'),
  reason: t.union([Text, t.null]),
  onHand: Count,
  reserved: Count,
})

// ---- idempotency-<hash> ----

/**
 * The first answer to a command with an idempotency key, appended atomically with the command's
 * events and as the last of them, so its position is the command's position. A second command
 * with the same key finds it and answers the same, or is refused when its request differs.
 */
export const CommandAccepted = t.type({
  idempotencyKey: t.string,
  requestHash: t.string,
  commandType: t.string,
  response: t.UnknownRecord,
})

// ---- seal-ledger ----

/**
 * A seal over the whole log: the hash chain of every event hash between the previous seal and
 * `throughPosition`. Written by the shell at an interval; see `src/audit`.
 */
export const LedgerSealed = t.type({
  fromPosition: Count,
  throughPosition: Count,
  eventCount: Count,
  sealHash: t.string,
  previousSealHash: t.string,
})

/** Every event type with its codec; the one list that the store, audit and projections use. */
export const eventCodecs = {
  ProgrammeCreated,
  ProgrammeBudgetIncreased,
  BonusGranted,
  BonusReleased,
  ExpiryRunCompleted,
  MerchantRegistered,
  MerchantSuspended,
  MerchantReinstated,
  VoucherPurchased,
  BonusVoucherIssued,
  VoucherRedeemed,
  PurchaseRefunded,
  BonusVoucherReduced,
  VoucherExpired,
  PayoutScheduled,
  PayoutRunCompleted,
  PayoutNoticeRecorded,
  StockMoved,
  CommandAccepted,
  LedgerSealed,
} as const

export type EventType = keyof typeof eventCodecs
export type EventDataOf<K extends EventType> = t.TypeOf<(typeof eventCodecs)[K]>

/** A ledger event as the domain sees it: a type and its data, nothing about storage. */
export type LedgerEvent = { [K in EventType]: { type: K; data: EventDataOf<K> } }[EventType]

export type EventOf<K extends EventType> = Extract<LedgerEvent, { type: K }>

export const isEventType = (type: string): type is EventType =>
  Object.prototype.hasOwnProperty.call(eventCodecs, type)

// Re-exported so modules that only need the event vocabulary import one file.
export { SignedCents }
