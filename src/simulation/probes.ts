import { dayMs, hourMs, minuteMs } from './calendar'
import type { SeasonGenerator } from './generator'
import type { PurchaseModel } from './model'
import type { Rng } from './random'

/**
 * Requests the ledger must refuse, sent on purpose among the season's ordinary traffic: a bonus
 * voucher at the merchant it was bought with, a purchased voucher at another merchant, a spend
 * above what remains, a refund of a voucher spent in full, and a spend on 2 January, after the
 * validity. Each is a rule of DOMAIN.md seen to hold on real data; none changes the ledger.
 */

/** The mid-season day of the probes: the twentieth day of the season, at three in the afternoon. */
const probeDayOffsetDays = 19
const probeHour = 15

/** The late spend comes half an hour before the expiry run. */
const lateSpendLeadMs = 30 * minuteMs

/** A spend above what remains asks for ten euros more than there is. */
const overspendCents = 1_000

/** The late spend asks for at most ten euros. */
const lateSpendCentsMax = 1_000

export class RefusalProbes {
  constructor(
    private readonly season: SeasonGenerator,
    private readonly rng: Rng,
  ) {}

  schedule(): void {
    const { calendar, agenda } = this.season
    const midSeasonMs = calendar.seasonStartMs + probeDayOffsetDays * dayMs + probeHour * hourMs
    agenda.add(midSeasonMs, { kind: 'probe', run: (atMs) => this.midSeason(atMs) })
    agenda.add(calendar.expiryRunMs - lateSpendLeadMs, {
      kind: 'probe',
      run: (atMs) => this.lateSpend(atMs),
    })
  }

  private midSeason(atMs: number): void {
    const { model } = this.season
    const active = model
      .purchasesMade()
      .filter((p) => p.purchased.status === 'active' && !model.isSuspended(p.merchantId))

    const withBonus = active.filter((p) => p.bonus !== null && p.bonus.status === 'active')
    const bonusAtOwn = withBonus.length > 0 ? this.rng.pick(withBonus) : undefined
    if (bonusAtOwn !== undefined) {
      this.refusedSpend(atMs, bonusAtOwn, 'bonus', bonusAtOwn.merchantId)
    }

    const atOther = active.length > 0 ? this.rng.pick(active) : undefined
    const other = this.season.merchants.find(
      (m) => m.body.merchantId !== atOther?.merchantId && !model.isSuspended(m.body.merchantId),
    )
    if (atOther !== undefined && other !== undefined) {
      this.refusedSpend(atMs, atOther, 'purchased', other.body.merchantId)
    }

    const overspent = active.length > 0 ? this.rng.pick(active) : undefined
    if (overspent !== undefined) {
      const amountCents = overspent.purchased.remainingCents + overspendCents
      this.season.emitRedemption({
        atMs,
        purchaseId: overspent.purchaseId,
        voucherKind: 'purchased',
        merchantId: overspent.merchantId,
        amountCents,
        expected: null,
        refusal: { code: 'insufficient_balance' },
      })
    }

    const spent = model.purchasesMade().filter((p) => p.purchased.status === 'spent')
    if (spent.length > 0) {
      const purchase = this.rng.pick(spent)
      this.season.emitRefund(atMs, purchase.purchaseId, null, { code: 'refund_not_allowed' })
    }
  }

  private refusedSpend(
    atMs: number,
    purchase: PurchaseModel,
    voucherKind: 'purchased' | 'bonus',
    merchantId: string,
  ): void {
    const voucher = voucherKind === 'bonus' ? purchase.bonus : purchase.purchased
    if (voucher === null || voucher.remainingCents === 0) return
    this.season.emitRedemption({
      atMs,
      purchaseId: purchase.purchaseId,
      voucherKind,
      merchantId,
      amountCents: voucher.remainingCents,
      expected: null,
      refusal: { code: 'wrong_merchant' },
    })
  }

  /** A customer at the till on 2 January with what is left of a voucher: too late. */
  private lateSpend(atMs: number): void {
    const { model } = this.season
    const left = model
      .purchasesMade()
      .filter((p) => p.purchased.status === 'active' && p.purchased.remainingCents > 0)
      .filter((p) => !model.isSuspended(p.merchantId))
    if (left.length === 0) return
    const purchase = this.rng.pick(left)
    const amountCents = Math.min(purchase.purchased.remainingCents, lateSpendCentsMax)
    this.season.emitRedemption({
      atMs,
      purchaseId: purchase.purchaseId,
      voucherKind: 'purchased',
      merchantId: purchase.merchantId,
      amountCents,
      expected: null,
      refusal: { code: 'voucher_expired' },
    })
  }
}
