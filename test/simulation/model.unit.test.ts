import t from 'tap'
import { LedgerModel } from '../../src/simulation/model'

/**
 * The simulator's bookkeeping of the rules, on the cases DOMAIN.md spells out: its answers are
 * what the season checks the ledger against, so they must be right on their own.
 */
const terms = {
  budgetCents: 1_000_000,
  bonusRateBasisPoints: 2_500,
  maxBonusPerCustomerCents: 5_000,
}

t.test('the refund example of DOMAIN.md, rule 6', async (t) => {
  const model = new LedgerModel(terms)
  t.same(model.purchase('p1', 'M', 'alice', 10_000), { bonusCents: 2_500, bonusReduced: false })
  const bonus = model.voucherOf('p1', 'bonus')
  const purchased = model.voucherOf('p1', 'purchased')
  if (bonus === null || purchased === null) throw new Error('vouchers expected')
  t.equal(model.redeem(bonus, 'N', 2_000), 500)
  t.equal(model.redeem(purchased, 'M', 4_000), 6_000)
  t.same(model.refund('p1'), { refundedCents: 5_000, bonusReducedCents: 500, deductedCents: 1_000 })
  t.equal(model.refundRefusal('p1'), 'refund_not_allowed', 'a purchase is refunded once')
  const figures = model.expectedFigures()
  t.equal(figures.bonusRecoveredCents, 1_000)
  t.equal(figures.bonusReducedCents, 500)
  t.equal(figures.budgetAvailableCents, 1_000_000 - 2_500 + 500 + 1_000)
})

t.test('the bonus is cut to the customer cap and to the budget, never refused', async (t) => {
  const model = new LedgerModel({ ...terms, budgetCents: 6_000 })
  t.same(model.purchase('p1', 'M', 'bob', 16_000), { bonusCents: 4_000, bonusReduced: false })
  t.same(model.purchase('p2', 'M', 'bob', 16_000), { bonusCents: 1_000, bonusReduced: true })
  t.same(model.purchase('p3', 'M', 'carol', 16_000), { bonusCents: 1_000, bonusReduced: true })
  t.same(model.purchase('p4', 'M', 'dan', 4_000), { bonusCents: 0, bonusReduced: true })
  t.equal(model.voucherOf('p4', 'bonus'), null, 'no bonus voucher for a bonus of zero')
})

t.test('redemptions: right merchant, within what remains, not while suspended', async (t) => {
  const model = new LedgerModel(terms)
  model.purchase('p1', 'M', 'alice', 10_000)
  const purchased = model.voucherOf('p1', 'purchased')
  const bonus = model.voucherOf('p1', 'bonus')
  if (bonus === null || purchased === null) throw new Error('vouchers expected')
  t.equal(model.redemptionRefusal(purchased, 'N', 100), 'wrong_merchant')
  t.equal(model.redemptionRefusal(bonus, 'M', 100), 'wrong_merchant')
  t.equal(model.redemptionRefusal(purchased, 'M', 10_001), 'insufficient_balance')
  model.suspend('M')
  t.equal(model.redemptionRefusal(purchased, 'M', 100), 'merchant_suspended')
  t.throws(() => model.redeem(purchased, 'M', 100), 'the model refuses to plan a refused spend')
})

t.test('payouts: a failed notice makes the amount owed again, whatever the order', async (t) => {
  const model = new LedgerModel(terms)
  model.purchase('p1', 'M', 'alice', 10_000)
  t.same(model.runPayouts('run1'), [{ merchantId: 'M', amountCents: 10_000 }])
  model.notice('run1', 'M', 'failed', 2_000)
  model.notice('run1', 'M', 'paid', 1_000)
  t.match(model.expectedFigures(), { paidOutCents: 0, inFlightCents: 0, owedCents: 10_000 })
  t.same(model.runPayouts('run2'), [{ merchantId: 'M', amountCents: 10_000 }])
  model.notice('run2', 'M', 'paid', 3_000)
  t.match(model.expectedFigures(), { paidOutCents: 10_000, owedCents: 0 })
})

t.test('expiry: unspent bonus returns, unspent purchased value is breakage', async (t) => {
  const model = new LedgerModel(terms)
  model.purchase('p1', 'M', 'alice', 10_000)
  const purchased = model.voucherOf('p1', 'purchased')
  if (purchased === null) throw new Error('voucher expected')
  model.redeem(purchased, 'M', 10_000)
  model.purchase('p2', 'M', 'bob', 2_000)
  t.same(model.expire(), {
    expiredVoucherCount: 3,
    expiredBonusCents: 3_000,
    expiredPurchasedCents: 2_000,
  })
  t.match(model.expectedFigures(), { bonusExpiredCents: 3_000, bonusOutstandingCents: 0 })
})
