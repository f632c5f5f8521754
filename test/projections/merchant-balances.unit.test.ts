import t from 'tap'
import { merchantBalancesProjection } from '../../projections/merchant-balances'
import {
  fold,
  payoutNotice,
  payoutScheduled,
  purchaseRefunded,
  recorded,
  voucherPurchased,
  voucherRedeemed,
} from './fixtures'

const owedByFormula = (d: {
  purchaseCents: number
  refundedCents: number
  bonusRedeemedCents: number
  paidOutCents: number
  inFlightCents: number
}) => d.purchaseCents - d.refundedCents + d.bonusRedeemedCents - d.paidOutCents - d.inFlightCents

t.test('DOMAIN.md rule 6 example: each merchant owed its share', async (t) => {
  const docs = fold(
    merchantBalancesProjection,
    recorded([
      voucherPurchased({ amountCents: 10_000, bonusCents: 2_500 }),
      voucherRedeemed({
        voucherId: 'b-pu1',
        kind: 'bonus',
        merchantId: 'M2',
        amountCents: 2_000,
        remainingCents: 500,
      }),
      voucherRedeemed({
        voucherId: 'v-pu1',
        kind: 'purchased',
        merchantId: 'M1',
        amountCents: 4_000,
        remainingCents: 6_000,
      }),
      purchaseRefunded({
        unredeemedCents: 6_000,
        refundedCents: 5_000,
        recoveredCents: 1_000,
        bonusCancelledCents: 500,
        newBonusEntitlementCents: 1_000,
      }),
    ]),
  )
  t.same(docs.get('M1'), {
    merchantId: 'M1',
    purchaseCents: 10_000,
    refundedCents: 6_000,
    bonusRedeemedCents: 0,
    paidOutCents: 0,
    inFlightCents: 0,
    owedCents: 4_000,
  })
  t.same(docs.get('M2'), {
    merchantId: 'M2',
    purchaseCents: 0,
    refundedCents: 0,
    bonusRedeemedCents: 2_000,
    paidOutCents: 0,
    inFlightCents: 0,
    owedCents: 2_000,
  })
})

t.test('payouts: scheduled, paid, failed late, failed then paid out of order', async (t) => {
  const base = { payoutId: 'po1', merchantId: 'M1', amountCents: 10_000 }
  const docs = fold(
    merchantBalancesProjection,
    recorded([
      voucherPurchased({ amountCents: 10_000, bonusCents: 0 }),
      payoutScheduled('po1', 'M1', 10_000),
    ]),
  )
  t.match(docs.get('M1'), { inFlightCents: 10_000, owedCents: 0, paidOutCents: 0 })

  const steps = [
    { outcome: 'paid', statusBefore: 'in_flight', statusAfter: 'paid', paid: 10_000, owed: 0 },
    { outcome: 'failed', statusBefore: 'paid', statusAfter: 'failed', paid: 0, owed: 10_000 },
    { outcome: 'paid', statusBefore: 'failed', statusAfter: 'failed', paid: 0, owed: 10_000 },
  ] as const
  let position = 3
  for (const step of steps) {
    const notice = payoutNotice({ ...base, ...step })
    fold(merchantBalancesProjection, recorded([notice], position++), docs)
    const doc = docs.get('M1')
    const expected = { inFlightCents: 0, paidOutCents: step.paid, owedCents: step.owed }
    t.match(doc, expected, step.statusAfter)
    t.equal(owedByFormula(doc!), doc!.owedCents)
  }
})

t.test('a payout failed while in flight is owed again', async (t) => {
  const docs = fold(
    merchantBalancesProjection,
    recorded([
      voucherPurchased({ amountCents: 5_000, bonusCents: 0 }),
      payoutScheduled('po1', 'M1', 5_000),
      payoutNotice({
        payoutId: 'po1',
        merchantId: 'M1',
        amountCents: 5_000,
        outcome: 'failed',
        statusBefore: 'in_flight',
        statusAfter: 'failed',
      }),
    ]),
  )
  t.match(docs.get('M1'), { inFlightCents: 0, paidOutCents: 0, owedCents: 5_000 })
})

t.test('a refund after a payout leaves the merchant owing (negative owed)', async (t) => {
  const docs = fold(
    merchantBalancesProjection,
    recorded([
      voucherPurchased({ amountCents: 5_000, bonusCents: 0 }),
      payoutScheduled('po1', 'M1', 5_000),
      purchaseRefunded({
        unredeemedCents: 5_000,
        refundedCents: 5_000,
        recoveredCents: 0,
        bonusCancelledCents: 0,
        newBonusEntitlementCents: 0,
      }),
    ]),
  )
  t.match(docs.get('M1'), { inFlightCents: 5_000, refundedCents: 5_000, owedCents: -5_000 })
})

t.test('purchased-voucher redemptions and events without money touch no balance', async (t) => {
  const events = recorded([
    voucherRedeemed({
      voucherId: 'v-pu1',
      kind: 'purchased',
      merchantId: 'M1',
      amountCents: 100,
      remainingCents: 0,
    }),
  ])
  t.same(merchantBalancesProjection.keysOf(events[0]!), [])
  t.equal(fold(merchantBalancesProjection, events).size, 0)
})
