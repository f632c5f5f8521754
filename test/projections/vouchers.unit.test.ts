import t from 'tap'
import { vouchersProjection } from '../../projections/vouchers'
import {
  bonusVoucherIssued,
  event,
  fold,
  purchaseRefunded,
  recorded,
  voucherExpired,
  voucherPurchased,
  voucherRedeemed,
} from './fixtures'

const purchase = { amountCents: 10_000, bonusCents: 2_500 }
const bought = () => [voucherPurchased(purchase), bonusVoucherIssued(purchase)]

const redeem = (
  voucherId: string,
  merchantId: string,
  amountCents: number,
  remainingCents: number,
) =>
  voucherRedeemed({
    voucherId,
    kind: voucherId.startsWith('b-') ? 'bonus' : 'purchased',
    merchantId,
    amountCents,
    remainingCents,
  })

const bonusReduced = (reducedCents: number, remainingCents: number) =>
  event('BonusVoucherReduced', {
    refundId: 'rf-pu1',
    voucherId: 'b-pu1',
    purchaseId: 'pu1',
    reducedCents,
    remainingCents,
  })

t.test('a purchase makes a purchased voucher and a bonus voucher', async (t) => {
  const docs = fold(vouchersProjection, recorded(bought()))
  t.match(docs.get('v-pu1'), {
    kind: 'purchased',
    programmeId: 'P1',
    merchantId: 'M1',
    valueCents: 10_000,
    redeemedCents: 0,
    remainingCents: 10_000,
    status: 'active',
  })
  t.match(docs.get('b-pu1'), {
    kind: 'bonus',
    merchantId: 'M1',
    valueCents: 2_500,
    remainingCents: 2_500,
    status: 'active',
  })
})

t.test('partial then full redemption: active, then spent', async (t) => {
  const spend = (amountCents: number, remainingCents: number) =>
    redeem('b-pu1', 'M2', amountCents, remainingCents)
  const docs = fold(vouchersProjection, recorded([...bought(), spend(1_000, 1_500)]))
  t.match(docs.get('b-pu1'), { redeemedCents: 1_000, remainingCents: 1_500, status: 'active' })
  fold(vouchersProjection, recorded([spend(1_500, 0)], 4), docs)
  t.match(docs.get('b-pu1'), { redeemedCents: 2_500, remainingCents: 0, status: 'spent' })
})

t.test('DOMAIN.md rule 6: refund ends the purchased voucher, reduces the bonus', async (t) => {
  const docs = fold(
    vouchersProjection,
    recorded([
      ...bought(),
      redeem('b-pu1', 'M2', 2_000, 500),
      redeem('v-pu1', 'M1', 4_000, 6_000),
      purchaseRefunded({
        unredeemedCents: 6_000,
        refundedCents: 5_000,
        recoveredCents: 1_000,
        bonusCancelledCents: 500,
        newBonusEntitlementCents: 1_000,
      }),
      bonusReduced(500, 0),
    ]),
  )
  t.match(docs.get('v-pu1'), {
    redeemedCents: 4_000,
    refundedCents: 6_000,
    remainingCents: 0,
    status: 'refunded',
  })
  t.match(docs.get('b-pu1'), {
    redeemedCents: 2_000,
    reducedCents: 500,
    remainingCents: 0,
    status: 'refunded',
  })
})

t.test('a bonus reduced but not to zero stays active', async (t) => {
  const docs = fold(vouchersProjection, recorded([...bought(), bonusReduced(1_000, 1_500)]))
  t.match(docs.get('b-pu1'), { remainingCents: 1_500, status: 'active' })
})

t.test('expiry takes what remains; a spent voucher stays spent', async (t) => {
  const docs = fold(
    vouchersProjection,
    recorded([
      ...bought(),
      redeem('v-pu1', 'M1', 10_000, 0),
      voucherExpired({ voucherId: 'b-pu1', kind: 'bonus', expiredCents: 2_500 }),
      voucherExpired({ voucherId: 'v-pu1', kind: 'purchased', expiredCents: 0 }),
    ]),
  )
  t.match(docs.get('b-pu1'), { expiredCents: 2_500, remainingCents: 0, status: 'expired' })
  t.match(docs.get('v-pu1'), { remainingCents: 0, status: 'spent' })
})

t.test('a voucher can never go below zero', async (t) => {
  t.throws(
    () =>
      fold(
        vouchersProjection,
        recorded([
          ...bought(),
          redeem('b-pu1', 'M2', 3_000, 0),
        ]),
      ),
    /below zero/,
  )
})

t.test('events about unknown vouchers change nothing', async (t) => {
  const docs = fold(vouchersProjection, recorded([bonusReduced(10, 0)]))
  t.equal(docs.size, 0)
})
