import assert from 'node:assert/strict'
import * as E from 'fp-ts/Either'
import {
  latestOccurredAt,
  reject,
  timeRejection,
  type CommandContext,
  type Decision,
  type Rejection,
  type StreamEvent,
} from './decider'
import type { EventDataOf, LedgerEvent, VoucherKind } from './events'
import type { Id } from './ids'
import type { MerchantState } from './merchant'
import {
  addCents,
  cents,
  minCents,
  shareAtRate,
  subtractCents,
  zeroCents,
  type Cents,
} from './money'
import {
  customerBonusCents,
  programmeVoucherIds,
  type Programme,
  type ProgrammeState,
} from './programme'
import { streams } from './streams'
import { endOfDayMs, epochMsOf, startOfDayMs, type CalendarDate, type Instant } from './time'

/**
 * Vouchers (stream `voucher-<voucherId>`), purchased and bonus, and the commands that move them:
 * purchase, redemption, refund and expiry. A voucher's stream is the consistency boundary of
 * rule 3 of DOMAIN.md: every redemption appends to it, so two concurrent redemptions cannot both
 * spend the same balance.
 */

// ---- state ----

/**
 * Where a voucher stands. `spent` when nothing remains; `refunded` when a refund ended it (for a
 * bonus voucher: when the refund cancelled all it had left); `expired` after an expiry run.
 */
export type VoucherStatus = 'active' | 'spent' | 'expired' | 'refunded'

/** A redemption as recorded, kept so that a repeated redemption id gets its first answer. */
export interface RedemptionRecord {
  readonly merchantId: Id
  readonly amountCents: Cents
  readonly remainingCents: Cents
}

/** The refund of a purchase as recorded, kept so that a repeated refund gets its first answer. */
export interface RefundRecord {
  readonly refundId: Id
  readonly refundedCents: Cents
  readonly bonusReducedCents: Cents
  readonly deductedCents: Cents
}

/** A voucher stream with no voucher issued yet. */
export interface NoVoucher {
  readonly issued: false
  readonly lastOccurredAt: Instant | null
}

/**
 * An issued voucher. At every event `valueCents = redeemedCents + remainingCents +
 * refundedCents + expiredCents`, which `evolveVoucher` asserts. The bonus rate is not kept
 * here: a refund reads it from the programme.
 */
export interface Voucher {
  readonly issued: true
  readonly voucherId: Id
  readonly kind: VoucherKind
  readonly purchaseId: Id
  readonly programmeId: Id
  /** For a purchased voucher where it is spent; for a bonus voucher where it may NOT be. */
  readonly merchantId: Id
  readonly customerId: Id
  /** For a bonus voucher, its value after what refunds cancelled. */
  readonly valueCents: Cents
  readonly redeemedCents: Cents
  readonly remainingCents: Cents
  /** The unredeemed part a refund took back (purchased vouchers only). */
  readonly refundedCents: Cents
  readonly expiredCents: Cents
  readonly status: VoucherStatus
  readonly validUntil: CalendarDate
  /** On a purchased voucher, its bonus voucher (null when the bonus was zero). */
  readonly bonusVoucherId: Id | null
  /** On a bonus voucher, the purchased voucher it came with. */
  readonly purchasedVoucherId: Id | null
  /** On a purchased voucher, the bonus granted with it; on a bonus voucher, its first value. */
  readonly bonusCents: Cents
  readonly redemptions: ReadonlyMap<Id, RedemptionRecord>
  readonly refund: RefundRecord | null
  readonly lastOccurredAt: Instant | null
}

/** Absent until issued, so no decider can spend a voucher that does not exist. */
export type VoucherState = NoVoucher | Voucher

export const initialVoucherState: VoucherState = { issued: false, lastOccurredAt: null }

// ---- evolve ----

/**
 * Folds one event of a voucher stream; events of other streams leave the state as it is. Throws
 * on what cannot happen in a sound log: spending more than remains, refunding or expiring a
 * voucher that is not active, a balance whose parts do not add up to its value.
 */
export const evolveVoucher = (state: VoucherState, event: StreamEvent): VoucherState => {
  switch (event.type) {
    case 'VoucherPurchased':
      assert(!state.issued, `voucher ${event.data.voucherId} issued twice`)
      return balanced(purchasedVoucher(event.data, latestOccurredAt(null, event)))
    case 'BonusVoucherIssued':
      assert(!state.issued, `voucher ${event.data.voucherId} issued twice`)
      return balanced(bonusVoucher(event.data, latestOccurredAt(null, event)))
    case 'VoucherRedeemed':
      return balanced(redeemed(activeVoucher(state, event), event.data))
    case 'PurchaseRefunded':
      return balanced(refunded(activeVoucher(state, event), event.data))
    case 'BonusVoucherReduced':
      return balanced(reduced(activeVoucher(state, event), event.data))
    case 'VoucherExpired':
      return balanced(expired(activeVoucher(state, event), event.data))
    default:
      return state
  }
}

const purchasedVoucher = (data: EventDataOf<'VoucherPurchased'>, at: Instant): Voucher => ({
  issued: true,
  voucherId: data.voucherId,
  kind: 'purchased',
  purchaseId: data.purchaseId,
  programmeId: data.programmeId,
  merchantId: data.merchantId,
  customerId: data.customerId,
  valueCents: data.amountCents,
  redeemedCents: zeroCents,
  remainingCents: data.amountCents,
  refundedCents: zeroCents,
  expiredCents: zeroCents,
  status: 'active',
  validUntil: data.validUntil,
  bonusVoucherId: data.bonusVoucherId,
  purchasedVoucherId: null,
  bonusCents: data.bonusCents,
  redemptions: new Map(),
  refund: null,
  lastOccurredAt: at,
})

const bonusVoucher = (data: EventDataOf<'BonusVoucherIssued'>, at: Instant): Voucher => ({
  issued: true,
  voucherId: data.voucherId,
  kind: 'bonus',
  purchaseId: data.purchaseId,
  programmeId: data.programmeId,
  merchantId: data.merchantId,
  customerId: data.customerId,
  valueCents: data.valueCents,
  redeemedCents: zeroCents,
  remainingCents: data.valueCents,
  refundedCents: zeroCents,
  expiredCents: zeroCents,
  status: 'active',
  validUntil: data.validUntil,
  bonusVoucherId: null,
  purchasedVoucherId: data.purchasedVoucherId,
  bonusCents: data.valueCents,
  redemptions: new Map(),
  refund: null,
  lastOccurredAt: at,
})

/** The active voucher with the event's time; asserts it exists and is still active. */
const activeVoucher = (state: VoucherState, event: StreamEvent): Voucher => {
  assert(state.issued, `${event.type} on a voucher never issued`)
  assert.equal(state.status, 'active', `${event.type} on voucher ${state.voucherId}`)
  return { ...state, lastOccurredAt: latestOccurredAt(state.lastOccurredAt, event) }
}

const redeemed = (voucher: Voucher, data: EventDataOf<'VoucherRedeemed'>): Voucher => {
  const remainingCents = subtractCents(voucher.remainingCents, data.amountCents)
  assert(remainingCents >= 0, `voucher ${voucher.voucherId} spent twice`)
  assert.equal(remainingCents, data.remainingCents, 'VoucherRedeemed remainder disagrees')

  const redemptions = new Map(voucher.redemptions)
  redemptions.set(data.redemptionId, {
    merchantId: data.merchantId,
    amountCents: data.amountCents,
    remainingCents,
  })
  return {
    ...voucher,
    redeemedCents: addCents(voucher.redeemedCents, data.amountCents),
    remainingCents,
    status: remainingCents === 0 ? 'spent' : 'active',
    redemptions,
  }
}

const refunded = (voucher: Voucher, data: EventDataOf<'PurchaseRefunded'>): Voucher => {
  assert.equal(voucher.kind, 'purchased', 'PurchaseRefunded on a bonus voucher')
  assert.equal(data.unredeemedCents, voucher.remainingCents, 'refund of another balance')
  return {
    ...voucher,
    remainingCents: zeroCents,
    refundedCents: data.unredeemedCents,
    status: 'refunded',
    refund: {
      refundId: data.refundId,
      refundedCents: data.refundedCents,
      bonusReducedCents: data.bonusCancelledCents,
      deductedCents: data.recoveredCents,
    },
  }
}

const reduced = (voucher: Voucher, data: EventDataOf<'BonusVoucherReduced'>): Voucher => {
  assert.equal(voucher.kind, 'bonus', 'BonusVoucherReduced on a purchased voucher')
  const remainingCents = subtractCents(voucher.remainingCents, data.reducedCents)
  assert(remainingCents >= 0, `bonus voucher ${voucher.voucherId} reduced below zero`)
  assert.equal(remainingCents, data.remainingCents, 'BonusVoucherReduced remainder disagrees')
  return {
    ...voucher,
    valueCents: subtractCents(voucher.valueCents, data.reducedCents),
    remainingCents,
    status: remainingCents === 0 ? 'refunded' : 'active',
  }
}

const expired = (voucher: Voucher, data: EventDataOf<'VoucherExpired'>): Voucher => {
  assert.equal(data.expiredCents, voucher.remainingCents, 'expiry of another balance')
  return {
    ...voucher,
    remainingCents: zeroCents,
    expiredCents: data.expiredCents,
    status: 'expired',
  }
}

/** Asserts that the parts of a voucher's value add up to it and none is negative. */
const balanced = (voucher: Voucher): Voucher => {
  const parts = [
    voucher.redeemedCents,
    voucher.remainingCents,
    voucher.refundedCents,
    voucher.expiredCents,
  ]
  assert(
    parts.every((part) => part >= 0),
    `voucher ${voucher.voucherId} has a negative part`,
  )
  assert.equal(
    parts.reduce(addCents, zeroCents),
    voucher.valueCents,
    `voucher ${voucher.voucherId} parts do not add up to its value`,
  )
  return voucher
}

// ---- commands ----

/**
 * A customer buys a voucher for one merchant. The shell derives both voucher ids from the
 * purchase id with a keyed hash (API.md) and passes them in, so a retry gets the same ids.
 */
export interface PurchaseVoucher {
  readonly purchaseId: Id
  readonly programmeId: Id
  readonly merchantId: Id
  readonly customerId: Id
  readonly amountCents: Cents
  readonly paymentReference: string
  readonly voucherId: Id
  readonly bonusVoucherId: Id
}

export interface PurchaseVoucherResponse {
  readonly purchaseId: Id
  readonly voucherId: Id
  readonly bonusVoucherId: Id | null
  readonly amountCents: Cents
  readonly bonusCents: Cents
  /** Whether the budget or the customer's cap left less than the full bonus. */
  readonly bonusReduced: boolean
}

/** Spends part or all of a voucher at a merchant. */
export interface RedeemVoucher {
  readonly redemptionId: Id
  readonly voucherId: Id
  readonly merchantId: Id
  readonly amountCents: Cents
}

export interface RedeemVoucherResponse {
  readonly redemptionId: Id
  readonly voucherId: Id
  readonly amountCents: Cents
  readonly remainingCents: Cents
}

/** Refunds what is left of a purchase, by rule 6 of DOMAIN.md. */
export interface RefundPurchase {
  readonly refundId: Id
  readonly purchaseId: Id
}

export interface RefundPurchaseResponse {
  /** Money back to the customer. */
  readonly refundedCents: Cents
  /** Unspent bonus cancelled. */
  readonly bonusReducedCents: Cents
  /** Bonus already spent beyond the new entitlement, taken out of the refund. */
  readonly deductedCents: Cents
}

/** Expires what remains on a programme's vouchers after its end date. */
export interface RunExpiry {
  readonly runId: Id
  readonly programmeId: Id
}

export interface RunExpiryResponse {
  readonly expiredVoucherCount: number
  readonly expiredBonusCents: Cents
  readonly expiredPurchasedCents: Cents
}

// ---- decide: purchase ----

/**
 * Records a purchase and grants its bonus. Refuses an unknown programme or merchant
 * (`not_found`); a bad time, or an instant outside the programme's validity in Europe/Paris
 * (`invalid_time`); a suspended merchant (`merchant_suspended`); an amount outside the
 * programme's voucher limits (`amount_out_of_range`). A bonus the budget or the customer's cap
 * cannot cover in full is reduced, possibly to zero, never refused (rule 1).
 */
export const decideVoucherPurchase = (
  command: PurchaseVoucher,
  programme: ProgrammeState,
  merchant: MerchantState,
  context: CommandContext,
): E.Either<Rejection, Decision<PurchaseVoucherResponse>> => {
  if (!programme.created) {
    return E.left(reject('not_found', `programme ${command.programmeId} does not exist`))
  }
  if (!merchant.registered) {
    return E.left(reject('not_found', `merchant ${command.merchantId} does not exist`))
  }
  assert.equal(programme.programmeId, command.programmeId, 'purchase read another programme')
  assert.equal(merchant.merchantId, command.merchantId, 'purchase read another merchant')
  assert.notEqual(command.voucherId, command.bonusVoucherId, 'voucher ids must differ')

  const rejection = purchaseRejection(command, programme, merchant.suspended, context)
  if (rejection !== undefined) return E.left(rejection)

  const { requestedBonusCents, bonusCents } = purchaseBonus(command, programme)
  const bonusVoucherId = bonusCents > 0 ? command.bonusVoucherId : null
  return E.right({
    appends: purchaseAppends(command, programme, requestedBonusCents, bonusCents),
    response: {
      purchaseId: command.purchaseId,
      voucherId: command.voucherId,
      bonusVoucherId,
      amountCents: command.amountCents,
      bonusCents,
      bonusReduced: bonusCents < requestedBonusCents,
    },
  })
}

const purchaseRejection = (
  command: PurchaseVoucher,
  programme: Programme,
  merchantSuspended: boolean,
  context: CommandContext,
): Rejection | undefined => {
  const timeProblem = timeRejection(context, programme.lastOccurredAt)
  if (timeProblem !== undefined) return timeProblem

  const occurredAtMs = epochMsOf(context.occurredAt)
  const outsideValidity =
    occurredAtMs < startOfDayMs(programme.validFrom) ||
    occurredAtMs > endOfDayMs(programme.validUntil)
  if (outsideValidity || programme.expiryRan) {
    const validity = `${programme.validFrom} to ${programme.validUntil}`
    return reject('invalid_time', `${context.occurredAt} is outside the validity ${validity}`)
  }
  if (merchantSuspended) {
    return reject('merchant_suspended', `merchant ${command.merchantId} is suspended`)
  }
  const { minVoucherCents, maxVoucherCents } = programme
  if (
    command.amountCents <= 0 ||
    (minVoucherCents !== null && command.amountCents < minVoucherCents) ||
    (maxVoucherCents !== null && command.amountCents > maxVoucherCents)
  ) {
    const limits = `${minVoucherCents ?? 1} to ${maxVoucherCents ?? 'any'} cents`
    return reject('amount_out_of_range', `${command.amountCents} cents is outside ${limits}`)
  }
  return undefined
}

/**
 * The bonus of a purchase: the amount at the programme's rate, rounded down, then reduced to
 * what the budget still has and to what the customer's cap still allows.
 */
const purchaseBonus = (command: PurchaseVoucher, programme: Programme) => {
  const requestedBonusCents = shareAtRate(command.amountCents, programme.bonusRateBasisPoints)
  const limitsCents = [requestedBonusCents, programme.availableCents]

  const capCents = programme.maxBonusPerCustomerCents
  if (capCents !== null) {
    const capLeftCents = subtractCents(capCents, customerBonusCents(programme, command.customerId))
    assert(capLeftCents >= 0, `customer ${command.customerId} is above the bonus cap`)
    limitsCents.push(capLeftCents)
  }
  return { requestedBonusCents, bonusCents: minCents(...limitsCents) }
}

const purchaseAppends = (
  command: PurchaseVoucher,
  programme: Programme,
  requestedBonusCents: Cents,
  bonusCents: Cents,
) => {
  const bonusVoucherId = bonusCents > 0 ? command.bonusVoucherId : null
  const shared = {
    purchaseId: command.purchaseId,
    programmeId: command.programmeId,
    merchantId: command.merchantId,
    customerId: command.customerId,
  }
  const granted = { ...shared, voucherId: command.voucherId, bonusVoucherId, requestedBonusCents }
  const appends = [
    {
      streamId: streams.programme(command.programmeId),
      events: [{ type: 'BonusGranted', data: { ...granted, bonusCents } } as LedgerEvent],
    },
    {
      streamId: streams.voucher(command.voucherId),
      events: [purchasedEvent(command, granted, bonusCents, programme.validUntil)],
    },
  ]
  if (bonusVoucherId === null) return appends

  const issued: EventDataOf<'BonusVoucherIssued'> = {
    ...shared,
    voucherId: bonusVoucherId,
    purchasedVoucherId: command.voucherId,
    valueCents: bonusCents,
    validUntil: programme.validUntil,
  }
  const bonusEvents: LedgerEvent[] = [{ type: 'BonusVoucherIssued', data: issued }]
  return [...appends, { streamId: streams.voucher(bonusVoucherId), events: bonusEvents }]
}

const purchasedEvent = (
  command: PurchaseVoucher,
  granted: Omit<EventDataOf<'BonusGranted'>, 'bonusCents'>,
  bonusCents: Cents,
  validUntil: CalendarDate,
): LedgerEvent => ({
  type: 'VoucherPurchased',
  data: {
    purchaseId: granted.purchaseId,
    programmeId: granted.programmeId,
    merchantId: granted.merchantId,
    customerId: granted.customerId,
    voucherId: granted.voucherId,
    bonusVoucherId: granted.bonusVoucherId,
    amountCents: command.amountCents,
    bonusCents,
    requestedBonusCents: granted.requestedBonusCents,
    paymentReference: command.paymentReference,
    validUntil,
  },
})

// ---- decide: redemption ----

/**
 * Spends part or all of a voucher. Refuses an unknown voucher or merchant (`not_found`); a
 * redemption id already used for another merchant or amount (`already_exists`); a bad time
 * (`invalid_time`); a suspended merchant (`merchant_suspended`); a purchased voucher at another
 * merchant or a bonus voucher at its own (`wrong_merchant`); an instant after the validity day
 * in Europe/Paris or an expired voucher (`voucher_expired`); a refunded voucher or an amount
 * above what remains (`insufficient_balance`). A redemption id already recorded with the same
 * merchant and amount appends nothing and answers as the first time.
 */
export const decideRedeemVoucher = (
  command: RedeemVoucher,
  voucher: VoucherState,
  merchant: MerchantState,
  context: CommandContext,
): E.Either<Rejection, Decision<RedeemVoucherResponse>> => {
  if (!voucher.issued) {
    return E.left(reject('not_found', `voucher ${command.voucherId} does not exist`))
  }
  if (!merchant.registered) {
    return E.left(reject('not_found', `merchant ${command.merchantId} does not exist`))
  }
  assert.equal(voucher.voucherId, command.voucherId, 'redemption read another voucher')
  assert.equal(merchant.merchantId, command.merchantId, 'redemption read another merchant')

  const previous = voucher.redemptions.get(command.redemptionId)
  if (previous !== undefined) return replayedRedemption(command, previous)

  const rejection = redeemRejection(command, voucher, merchant.suspended, context)
  if (rejection !== undefined) return E.left(rejection)

  const redeemedEvent: EventDataOf<'VoucherRedeemed'> = {
    redemptionId: command.redemptionId,
    voucherId: command.voucherId,
    kind: voucher.kind,
    programmeId: voucher.programmeId,
    merchantId: command.merchantId,
    amountCents: command.amountCents,
    remainingCents: subtractCents(voucher.remainingCents, command.amountCents),
  }
  return E.right({
    appends: [
      {
        streamId: streams.voucher(command.voucherId),
        events: [{ type: 'VoucherRedeemed', data: redeemedEvent }],
      },
    ],
    response: {
      redemptionId: command.redemptionId,
      voucherId: command.voucherId,
      amountCents: command.amountCents,
      remainingCents: redeemedEvent.remainingCents,
    },
  })
}

const replayedRedemption = (
  command: RedeemVoucher,
  previous: RedemptionRecord,
): E.Either<Rejection, Decision<RedeemVoucherResponse>> => {
  if (previous.merchantId !== command.merchantId || previous.amountCents !== command.amountCents) {
    const detail = `redemption ${command.redemptionId} was recorded with another body`
    return E.left(reject('already_exists', detail))
  }
  return E.right({
    appends: [],
    response: {
      redemptionId: command.redemptionId,
      voucherId: command.voucherId,
      amountCents: previous.amountCents,
      remainingCents: previous.remainingCents,
    },
  })
}

const redeemRejection = (
  command: RedeemVoucher,
  voucher: Voucher,
  merchantSuspended: boolean,
  context: CommandContext,
): Rejection | undefined => {
  const timeProblem = timeRejection(context, voucher.lastOccurredAt)
  if (timeProblem !== undefined) return timeProblem

  if (merchantSuspended) {
    return reject('merchant_suspended', `merchant ${command.merchantId} is suspended`)
  }
  const atOwnMerchant = command.merchantId === voucher.merchantId
  if (voucher.kind === 'purchased' ? !atOwnMerchant : atOwnMerchant) {
    const where = voucher.kind === 'purchased' ? 'only at' : 'anywhere but at'
    return reject('wrong_merchant', `${voucher.kind} voucher is spent ${where} its merchant`)
  }
  const afterValidity = epochMsOf(context.occurredAt) > endOfDayMs(voucher.validUntil)
  if (afterValidity || voucher.status === 'expired') {
    return reject('voucher_expired', `voucher was valid until ${voucher.validUntil}`)
  }
  if (command.amountCents <= 0) {
    return reject('amount_out_of_range', 'a redemption is more than zero cents')
  }
  if (voucher.status === 'refunded' || command.amountCents > voucher.remainingCents) {
    const detail = `${command.amountCents} cents asked, ${voucher.remainingCents} remain`
    return reject('insufficient_balance', detail)
  }
  return undefined
}

// ---- decide: refund ----

/**
 * Refunds a purchase by rule 6 of DOMAIN.md. Refuses an unknown purchase (`not_found`), a bad
 * time (`invalid_time`), and a voucher refunded or expired already or with nothing unredeemed
 * (`refund_not_allowed`). The same refund id again appends nothing and answers as the first
 * time. Only the expiry run ends a voucher here, not the calendar: a processor's late refund
 * before the run is still recorded, since the customer already has the money back.
 *
 * The bonus voucher is appended to only when unspent bonus is cancelled, and that is safe under
 * concurrency: when nothing is cancelled, either the whole bonus stays with the customer (so
 * what was spent of it does not matter) or nothing of it remains to be spent concurrently.
 */
export const decideRefundPurchase = (
  command: RefundPurchase,
  purchased: VoucherState,
  bonus: VoucherState | undefined,
  programme: ProgrammeState,
  context: CommandContext,
): E.Either<Rejection, Decision<RefundPurchaseResponse>> => {
  if (!purchased.issued) {
    return E.left(reject('not_found', `purchase ${command.purchaseId} does not exist`))
  }
  const { bonusVoucher, bonusRateBasisPoints } = refundInputs(command, purchased, bonus, programme)
  if (purchased.refund?.refundId === command.refundId) {
    return E.right({ appends: [], response: refundResponse(purchased.refund) })
  }
  const timeProblem = timeRejection(context, purchased.lastOccurredAt)
  if (timeProblem !== undefined) return E.left(timeProblem)

  if (purchased.status === 'refunded' || purchased.status === 'expired') {
    return E.left(reject('refund_not_allowed', `purchase is ${purchased.status} already`))
  }
  if (purchased.remainingCents === 0) {
    return E.left(reject('refund_not_allowed', 'the whole voucher was redeemed'))
  }
  const shares = refundShares(purchased, bonusVoucher, bonusRateBasisPoints)
  return E.right({
    appends: refundAppends(command, purchased, bonusVoucher, shares),
    response: {
      refundedCents: shares.refundedCents,
      bonusReducedCents: shares.cancelledCents,
      deductedCents: shares.recoveredCents,
    },
  })
}

/** Asserts the shell loaded the streams of this purchase; gives what the refund reads of them. */
const refundInputs = (
  command: RefundPurchase,
  purchased: Voucher,
  bonus: VoucherState | undefined,
  programme: ProgrammeState,
): { bonusVoucher: Voucher | null; bonusRateBasisPoints: number } => {
  assert.equal(purchased.kind, 'purchased', 'refund read a bonus voucher as the purchase')
  assert.equal(purchased.purchaseId, command.purchaseId, 'refund read another purchase')
  assert(programme.created, `refund of ${command.purchaseId} without its programme`)
  assert.equal(programme.programmeId, purchased.programmeId, 'refund read another programme')
  if (purchased.bonusVoucherId === null) {
    assert(bonus === undefined || !bonus.issued, 'refund read a bonus voucher of no purchase')
    return { bonusVoucher: null, bonusRateBasisPoints: programme.bonusRateBasisPoints }
  }
  assert(bonus?.issued === true, `refund of ${command.purchaseId} without its bonus voucher`)
  assert.equal(bonus.voucherId, purchased.bonusVoucherId, 'refund read another bonus voucher')
  return { bonusVoucher: bonus, bonusRateBasisPoints: programme.bonusRateBasisPoints }
}

const refundResponse = (refund: RefundRecord): RefundPurchaseResponse => ({
  refundedCents: refund.refundedCents,
  bonusReducedCents: refund.bonusReducedCents,
  deductedCents: refund.deductedCents,
})

/** The figures of rule 6, each in cents. */
export interface RefundShares {
  /** U: what the merchant gives back. */
  readonly unredeemedCents: Cents
  /** E: the bonus the customer keeps a right to. */
  readonly entitlementCents: Cents
  /** Unspent bonus cancelled. */
  readonly cancelledCents: Cents
  /** Bonus already spent beyond E, taken out of the customer's money. */
  readonly recoveredCents: Cents
  /** U minus what was recovered: the customer's money back. */
  readonly refundedCents: Cents
}

/**
 * Rule 6: the new entitlement is the rate of what the customer kept, rounded down and never
 * above the bonus first granted. Unspent bonus above it is cancelled; bonus spent above it is
 * recovered from the refund.
 */
export const refundShares = (
  purchased: Voucher,
  bonus: Voucher | null,
  bonusRateBasisPoints: number,
): RefundShares => {
  const unredeemedCents = subtractCents(purchased.valueCents, purchased.redeemedCents)
  assert.equal(unredeemedCents, purchased.remainingCents, 'refund of a voucher not active')
  const entitlementCents = minCents(
    shareAtRate(purchased.redeemedCents, bonusRateBasisPoints),
    purchased.bonusCents,
  )
  const spentBonusCents = bonus?.redeemedCents ?? zeroCents
  const unspentBonusCents = bonus?.remainingCents ?? zeroCents

  const keptUnspentCents = minCents(
    cents(Math.max(0, entitlementCents - spentBonusCents)),
    unspentBonusCents,
  )
  const cancelledCents = subtractCents(unspentBonusCents, keptUnspentCents)
  const recoveredCents = cents(Math.max(0, spentBonusCents - entitlementCents))
  const refundedCents = subtractCents(unredeemedCents, recoveredCents)
  assert(refundedCents >= 0, 'a refund recovered more bonus than the customer gets back')
  return { unredeemedCents, entitlementCents, cancelledCents, recoveredCents, refundedCents }
}

const refundAppends = (
  command: RefundPurchase,
  purchased: Voucher,
  bonus: Voucher | null,
  shares: RefundShares,
) => {
  const refundedEvent: EventDataOf<'PurchaseRefunded'> = {
    refundId: command.refundId,
    purchaseId: purchased.purchaseId,
    programmeId: purchased.programmeId,
    merchantId: purchased.merchantId,
    customerId: purchased.customerId,
    voucherId: purchased.voucherId,
    bonusVoucherId: purchased.bonusVoucherId,
    unredeemedCents: shares.unredeemedCents,
    refundedCents: shares.refundedCents,
    recoveredCents: shares.recoveredCents,
    bonusCancelledCents: shares.cancelledCents,
    newBonusEntitlementCents: shares.entitlementCents,
  }
  const appends = [
    {
      streamId: streams.voucher(purchased.voucherId),
      events: [{ type: 'PurchaseRefunded', data: refundedEvent } as LedgerEvent],
    },
  ]
  if (bonus !== null && shares.cancelledCents > 0) {
    appends.push({
      streamId: streams.voucher(bonus.voucherId),
      events: [bonusReducedEvent(command, bonus, shares.cancelledCents)],
    })
  }
  if (addCents(shares.cancelledCents, shares.recoveredCents) > 0) {
    appends.push({
      streamId: streams.programme(purchased.programmeId),
      events: [bonusReleasedEvent(command, purchased, shares)],
    })
  }
  return appends
}

const bonusReducedEvent = (
  command: RefundPurchase,
  bonus: Voucher,
  reducedCents: Cents,
): LedgerEvent => ({
  type: 'BonusVoucherReduced',
  data: {
    refundId: command.refundId,
    voucherId: bonus.voucherId,
    purchaseId: bonus.purchaseId,
    reducedCents,
    remainingCents: subtractCents(bonus.remainingCents, reducedCents),
  },
})

/** Written only when the refund gives the programme something back, to spare its hot stream. */
const bonusReleasedEvent = (
  command: RefundPurchase,
  purchased: Voucher,
  shares: RefundShares,
): LedgerEvent => ({
  type: 'BonusReleased',
  data: {
    programmeId: purchased.programmeId,
    purchaseId: purchased.purchaseId,
    refundId: command.refundId,
    customerId: purchased.customerId,
    cancelledCents: shares.cancelledCents,
    recoveredCents: shares.recoveredCents,
  },
})

// ---- decide: expiry ----

/**
 * Expires what remains on a programme's active vouchers once its last valid day has ended in
 * Europe/Paris (rule 5). Refuses an unknown programme (`not_found`), and a bad time or a run
 * before the end of the validity (`invalid_time`). `vouchers` must hold the state of every
 * voucher the programme issued (`programmeVoucherIds`); a missing one is an assertion, not a
 * skip, since a skipped voucher would stay spendable money nobody reports. A second run finds
 * nothing active and records a run of zeros.
 */
export const decideRunExpiry = (
  command: RunExpiry,
  programme: ProgrammeState,
  vouchers: ReadonlyMap<string, VoucherState>,
  context: CommandContext,
): E.Either<Rejection, Decision<RunExpiryResponse>> => {
  if (!programme.created) {
    return E.left(reject('not_found', `programme ${command.programmeId} does not exist`))
  }
  assert.equal(programme.programmeId, command.programmeId, 'expiry read another programme')
  const timeProblem = timeRejection(context, programme.lastOccurredAt)
  if (timeProblem !== undefined) return E.left(timeProblem)

  if (epochMsOf(context.occurredAt) <= endOfDayMs(programme.validUntil)) {
    const detail = `vouchers are valid until the end of ${programme.validUntil}`
    return E.left(reject('invalid_time', detail))
  }
  const expiredEvents = expiredVouchers(command, programme, vouchers)
  const totals: RunExpiryResponse = {
    expiredVoucherCount: expiredEvents.length,
    expiredBonusCents: sumExpiredCents(expiredEvents, 'bonus'),
    expiredPurchasedCents: sumExpiredCents(expiredEvents, 'purchased'),
  }
  const completed: EventDataOf<'ExpiryRunCompleted'> = {
    programmeId: command.programmeId,
    runId: command.runId,
    ...totals,
  }
  return E.right({
    appends: [
      ...expiredEvents.map((data) => ({
        streamId: streams.voucher(data.voucherId),
        events: [{ type: 'VoucherExpired', data } as LedgerEvent],
      })),
      {
        streamId: streams.programme(command.programmeId),
        events: [{ type: 'ExpiryRunCompleted', data: completed }],
      },
    ],
    response: totals,
  })
}

/** A `VoucherExpired` for each active voucher with something left, in issue order. */
const expiredVouchers = (
  command: RunExpiry,
  programme: Programme,
  vouchers: ReadonlyMap<string, VoucherState>,
): EventDataOf<'VoucherExpired'>[] => {
  const events: EventDataOf<'VoucherExpired'>[] = []
  for (const voucherId of programmeVoucherIds(programme)) {
    const voucher = vouchers.get(voucherId)
    assert(voucher?.issued === true, `expiry run without the state of voucher ${voucherId}`)
    assert.equal(voucher.programmeId, programme.programmeId, 'voucher of another programme')
    if (voucher.status !== 'active' || voucher.remainingCents === 0) continue

    events.push({
      runId: command.runId,
      voucherId,
      kind: voucher.kind,
      programmeId: programme.programmeId,
      merchantId: voucher.merchantId,
      expiredCents: voucher.remainingCents,
    })
  }
  return events
}

const sumExpiredCents = (
  events: readonly EventDataOf<'VoucherExpired'>[],
  kind: VoucherKind,
): Cents =>
  events
    .filter((event) => event.kind === kind)
    .reduce((sumCents, event) => addCents(sumCents, event.expiredCents), zeroCents)
