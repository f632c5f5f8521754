import type { ExpectedFigures, ExpiryFigures, RefundFigures, VoucherKind } from './plan'

/**
 * The simulator's own bookkeeping of the scheme's rules (DOMAIN.md), written apart from the
 * ledger's deciders on purpose: the generator asks it what a customer can still spend so it
 * plans only what the ledger must accept, and the answers it predicts (bonus of a purchase,
 * remainder of a voucher, the figures of a refund, a payout run, the expiry and the final
 * report) are checked against the ledger's. A disagreement is a bug on one side, reported.
 */

/** The programme's terms the rules read. */
export interface ProgrammeTerms {
  readonly budgetCents: number
  readonly bonusRateBasisPoints: number
  readonly maxBonusPerCustomerCents: number
}

export type VoucherStatus = 'active' | 'spent' | 'refunded' | 'expired'

/** A voucher as the model follows it; `valueCents` of a bonus voucher shrinks with refunds. */
export interface VoucherModel {
  readonly kind: VoucherKind
  readonly purchaseId: string
  readonly merchantId: string
  readonly customerId: string
  valueCents: number
  redeemedCents: number
  remainingCents: number
  status: VoucherStatus
}

/** A purchase with its two vouchers; `bonus` is null when no bonus was granted. */
export interface PurchaseModel {
  readonly purchaseId: string
  readonly merchantId: string
  readonly customerId: string
  readonly amountCents: number
  readonly bonusCents: number
  readonly purchased: VoucherModel
  readonly bonus: VoucherModel | null
}

export type PayoutStatus = 'in_flight' | 'paid' | 'failed'

interface PayoutModel {
  readonly merchantId: string
  readonly amountCents: number
  status: PayoutStatus
  latestNoticeMs: number | null
  latestOutcome: 'paid' | 'failed' | null
}

interface MerchantMoney {
  payableCents: number
  inFlightCents: number
  paidOutCents: number
}

/** Stock of one article of a click & collect merchant. */
export interface StockLevels {
  onHand: number
  reserved: number
  receivedTotal: number
}

const basisPointsPerUnit = 10_000

/** The bonus of an amount at a rate, rounded down to the cent (DOMAIN.md, Money and time). */
export const shareAtRate = (amountCents: number, rateBasisPoints: number): number =>
  Math.floor((amountCents * rateBasisPoints) / basisPointsPerUnit)

export class LedgerModel {
  private grantedCents = 0
  private releasedCents = 0
  private expiredBonusCents = 0
  private readonly figures = {
    bonusRedeemedCents: 0,
    bonusReducedCents: 0,
    bonusRecoveredCents: 0,
    purchaseCount: 0,
    purchaseCents: 0,
    refundedCents: 0,
    purchasedRedeemedCents: 0,
    purchasedExpiredCents: 0,
  }
  private readonly customerBonusCents = new Map<string, number>()
  private readonly purchases = new Map<string, PurchaseModel>()
  /** Purchases in the order they were made: the order the expiry run walks. */
  private readonly purchaseOrder: PurchaseModel[] = []
  private readonly money = new Map<string, MerchantMoney>()
  private readonly payouts = new Map<string, PayoutModel>()
  private readonly suspended = new Set<string>()
  private readonly stock = new Map<string, StockLevels>()

  constructor(readonly terms: ProgrammeTerms) {}

  /** Budget not yet granted: what a purchase's bonus can still take (rule 1). */
  availableCents(): number {
    return this.terms.budgetCents - this.grantedCents + this.releasedCents + this.expiredBonusCents
  }

  /** Rules 1 and 2: the bonus at the rate, reduced to the budget left and the customer's cap. */
  bonusFor(customerId: string, amountCents: number): { requested: number; granted: number } {
    const requested = shareAtRate(amountCents, this.terms.bonusRateBasisPoints)
    const netCents = this.customerBonusCents.get(customerId) ?? 0
    const capLeft = this.terms.maxBonusPerCustomerCents - netCents
    return { requested, granted: Math.max(0, Math.min(requested, this.availableCents(), capLeft)) }
  }

  purchase(purchaseId: string, merchantId: string, customerId: string, amountCents: number) {
    const { requested, granted } = this.bonusFor(customerId, amountCents)
    const voucher = (kind: VoucherKind, valueCents: number): VoucherModel => ({
      kind,
      purchaseId,
      merchantId,
      customerId,
      valueCents,
      redeemedCents: 0,
      remainingCents: valueCents,
      status: 'active',
    })
    const purchase: PurchaseModel = {
      purchaseId,
      merchantId,
      customerId,
      amountCents,
      bonusCents: granted,
      purchased: voucher('purchased', amountCents),
      bonus: granted > 0 ? voucher('bonus', granted) : null,
    }
    this.purchases.set(purchaseId, purchase)
    this.purchaseOrder.push(purchase)
    this.grantedCents += granted
    const netCents = this.customerBonusCents.get(customerId) ?? 0
    this.customerBonusCents.set(customerId, netCents + granted)
    this.figures.purchaseCount += 1
    this.figures.purchaseCents += amountCents
    this.moneyOf(merchantId).payableCents += amountCents
    return { bonusCents: granted, bonusReduced: granted < requested }
  }

  /** Every purchase so far, in the order made: where probes look for a voucher to misuse. */
  purchasesMade(): readonly PurchaseModel[] {
    return this.purchaseOrder
  }

  purchaseOf(purchaseId: string): PurchaseModel | undefined {
    return this.purchases.get(purchaseId)
  }

  voucherOf(purchaseId: string, kind: VoucherKind): VoucherModel | null {
    const purchase = this.purchases.get(purchaseId)
    if (purchase === undefined) return null
    return kind === 'purchased' ? purchase.purchased : purchase.bonus
  }

  /**
   * Why the ledger must refuse a redemption, or null when it must accept it, checked in the
   * ledger's order of precedence (time aside: the plan is in time order).
   */
  redemptionRefusal(voucher: VoucherModel, merchantId: string, amountCents: number): string | null {
    if (this.suspended.has(merchantId)) return 'merchant_suspended'
    const atOwn = merchantId === voucher.merchantId
    if (voucher.kind === 'purchased' ? !atOwn : atOwn) return 'wrong_merchant'
    if (voucher.status === 'expired') return 'voucher_expired'
    if (voucher.status === 'refunded' || amountCents > voucher.remainingCents) {
      return 'insufficient_balance'
    }
    return null
  }

  /** Rule 3: spends part of a voucher; the caller has checked it may. */
  redeem(voucher: VoucherModel, merchantId: string, amountCents: number): number {
    if (this.redemptionRefusal(voucher, merchantId, amountCents) !== null) {
      throw new Error(`assertion failed: the plan redeems what the rules refuse`)
    }
    voucher.redeemedCents += amountCents
    voucher.remainingCents -= amountCents
    if (voucher.remainingCents === 0) voucher.status = 'spent'
    if (voucher.kind === 'bonus') {
      this.figures.bonusRedeemedCents += amountCents
      this.moneyOf(merchantId).payableCents += amountCents
    } else {
      this.figures.purchasedRedeemedCents += amountCents
    }
    return voucher.remainingCents
  }

  /** Why a refund must be refused, or null when the ledger must accept it. */
  refundRefusal(purchaseId: string): string | null {
    const purchase = this.purchases.get(purchaseId)
    if (purchase === undefined) return 'not_found'
    const voucher = purchase.purchased
    if (voucher.status === 'refunded' || voucher.status === 'expired') return 'refund_not_allowed'
    if (voucher.remainingCents === 0) return 'refund_not_allowed'
    return null
  }

  /** Rule 6 of DOMAIN.md, applied: the figures the refund must answer with. */
  refund(purchaseId: string): RefundFigures {
    const purchase = this.purchases.get(purchaseId)
    if (purchase === undefined || this.refundRefusal(purchaseId) !== null) {
      throw new Error(`assertion failed: the plan refunds what the rules refuse`)
    }
    const shares = refundShares(purchase, this.terms.bonusRateBasisPoints)
    const { purchased, bonus } = purchase
    purchased.remainingCents = 0
    purchased.status = 'refunded'
    if (bonus !== null && shares.cancelledCents > 0) {
      bonus.valueCents -= shares.cancelledCents
      bonus.remainingCents -= shares.cancelledCents
      if (bonus.remainingCents === 0) bonus.status = 'refunded'
    }
    const releasedCents = shares.cancelledCents + shares.recoveredCents
    this.releasedCents += releasedCents
    this.customerBonusCents.set(
      purchase.customerId,
      (this.customerBonusCents.get(purchase.customerId) ?? 0) - releasedCents,
    )
    this.figures.bonusReducedCents += shares.cancelledCents
    this.figures.bonusRecoveredCents += shares.recoveredCents
    this.figures.refundedCents += shares.unredeemedCents
    this.moneyOf(purchase.merchantId).payableCents -= shares.unredeemedCents
    return {
      refundedCents: shares.refundedCents,
      bonusReducedCents: shares.cancelledCents,
      deductedCents: shares.recoveredCents,
    }
  }

  /** What customers still hold on purchased vouchers, by the merchant they were bought at. */
  unspentPurchasedCentsByMerchant(): ReadonlyMap<string, number> {
    const unspent = new Map<string, number>()
    for (const { merchantId, purchased } of this.purchaseOrder) {
      if (purchased.status !== 'active') continue
      unspent.set(merchantId, (unspent.get(merchantId) ?? 0) + purchased.remainingCents)
    }
    return unspent
  }

  suspend(merchantId: string): void {
    this.suspended.add(merchantId)
  }

  isSuspended(merchantId: string): boolean {
    return this.suspended.has(merchantId)
  }

  /** Rule 8: one payout per merchant owed more than zero, by merchant id in code-unit order. */
  runPayouts(runId: string): { merchantId: string; amountCents: number }[] {
    const owed = [...this.money]
      .filter(([, money]) => money.payableCents > 0)
      .map(([merchantId, money]) => ({ merchantId, amountCents: money.payableCents }))
      .sort((a, b) => (a.merchantId < b.merchantId ? -1 : a.merchantId > b.merchantId ? 1 : 0))
    for (const payout of owed) {
      const money = this.moneyOf(payout.merchantId)
      money.payableCents -= payout.amountCents
      money.inFlightCents += payout.amountCents
      this.payouts.set(payoutKey(runId, payout.merchantId), {
        ...payout,
        status: 'in_flight',
        latestNoticeMs: null,
        latestOutcome: null,
      })
    }
    return owed
  }

  /**
   * A processor notice in delivery order. The notice with the latest `occurredAt` decides the
   * status, a failure winning a tie, whatever order they arrive in (API.md).
   */
  notice(runId: string, merchantId: string, outcome: 'paid' | 'failed', occurredAtMs: number) {
    const payout = this.payouts.get(payoutKey(runId, merchantId))
    if (payout === undefined) throw new Error(`assertion failed: notice for no payout`)
    const supersedes =
      payout.latestNoticeMs === null ||
      occurredAtMs > payout.latestNoticeMs ||
      (occurredAtMs === payout.latestNoticeMs && outcome === 'failed')
    if (!supersedes) return
    payout.latestNoticeMs = occurredAtMs
    payout.latestOutcome = outcome
    this.movePayout(payout, outcome)
  }

  private movePayout(payout: PayoutModel, to: PayoutStatus): void {
    if (payout.status === to) return
    const money = this.moneyOf(payout.merchantId)
    const shift = (status: PayoutStatus, sign: number) => {
      if (status === 'in_flight') money.inFlightCents += sign * payout.amountCents
      if (status === 'paid') money.paidOutCents += sign * payout.amountCents
      if (status === 'failed') money.payableCents += sign * payout.amountCents
    }
    shift(payout.status, -1)
    shift(to, 1)
    payout.status = to
  }

  /** Rule 5: what remains on active vouchers expires, in the order they were issued. */
  expire(): ExpiryFigures {
    const totals = { expiredVoucherCount: 0, expiredBonusCents: 0, expiredPurchasedCents: 0 }
    for (const purchase of this.purchaseOrder) {
      for (const voucher of [purchase.purchased, purchase.bonus]) {
        if (voucher === null || voucher.status !== 'active') continue
        if (voucher.remainingCents === 0) continue
        totals.expiredVoucherCount += 1
        if (voucher.kind === 'bonus') totals.expiredBonusCents += voucher.remainingCents
        else totals.expiredPurchasedCents += voucher.remainingCents
        voucher.remainingCents = 0
        voucher.status = 'expired'
      }
    }
    this.expiredBonusCents += totals.expiredBonusCents
    this.figures.purchasedExpiredCents += totals.expiredPurchasedCents
    return totals
  }

  /** Stock levels of an article, created empty on first use. */
  stockOf(merchantId: string, sku: string): StockLevels {
    const key = `${merchantId}/${sku}`
    let levels = this.stock.get(key)
    if (levels === undefined) {
      levels = { onHand: 0, reserved: 0, receivedTotal: 0 }
      this.stock.set(key, levels)
    }
    return levels
  }

  /** The report's figures as the rules make them. */
  expectedFigures(): ExpectedFigures {
    const bonusOutstandingCents =
      this.grantedCents -
      this.figures.bonusRedeemedCents -
      this.expiredBonusCents -
      this.figures.bonusReducedCents
    const totals = { paidOutCents: 0, inFlightCents: 0, owedCents: 0 }
    for (const money of this.money.values()) {
      totals.paidOutCents += money.paidOutCents
      totals.inFlightCents += money.inFlightCents
      totals.owedCents += money.payableCents
    }
    return {
      ...this.figures,
      ...totals,
      budgetCents: this.terms.budgetCents,
      bonusGrantedCents: this.grantedCents,
      bonusExpiredCents: this.expiredBonusCents,
      bonusOutstandingCents,
      budgetAvailableCents: this.availableCents(),
    }
  }

  private moneyOf(merchantId: string): MerchantMoney {
    let money = this.money.get(merchantId)
    if (money === undefined) {
      money = { payableCents: 0, inFlightCents: 0, paidOutCents: 0 }
      this.money.set(merchantId, money)
    }
    return money
  }
}

const payoutKey = (runId: string, merchantId: string): string => `${runId}/${merchantId}`

/** The figures of rule 6 for a purchase as it stands. */
export interface RefundShares {
  readonly unredeemedCents: number
  readonly entitlementCents: number
  readonly cancelledCents: number
  readonly recoveredCents: number
  readonly refundedCents: number
}

/**
 * Rule 6: the new entitlement is the rate of what the customer kept (redeemed), rounded down,
 * never above the bonus granted; unspent bonus above it is cancelled, spent bonus above it is
 * recovered out of the money refunded.
 */
export const refundShares = (purchase: PurchaseModel, rateBasisPoints: number): RefundShares => {
  const { purchased, bonus } = purchase
  const unredeemedCents = purchased.remainingCents
  const entitlementCents = Math.min(
    shareAtRate(purchased.redeemedCents, rateBasisPoints),
    purchase.bonusCents,
  )
  const spentBonusCents = bonus?.redeemedCents ?? 0
  const unspentBonusCents = bonus?.remainingCents ?? 0
  const keptUnspentCents = Math.min(
    Math.max(0, entitlementCents - spentBonusCents),
    unspentBonusCents,
  )
  const cancelledCents = unspentBonusCents - keptUnspentCents
  const recoveredCents = Math.max(0, spentBonusCents - entitlementCents)
  return {
    unredeemedCents,
    entitlementCents,
    cancelledCents,
    recoveredCents,
    refundedCents: unredeemedCents - recoveredCents,
  }
}
