import t from 'tap'
import type { CommandContext } from '../../domain/decider'
import { customerBonusCents } from '../../domain/programme'
import { streams } from '../../domain/streams'
import {
  decideRedeemVoucher,
  decideRefundPurchase,
  type PurchaseVoucher,
} from '../../domain/voucher'
import {
  cents,
  codeOf,
  context,
  customerId,
  decisionOf,
  event,
  futureContext,
  id,
  merchantM,
  merchantN,
  nowAt,
  programmeId,
  purchase,
  purchaseCommand,
  seasonLedger,
  TestLedger,
} from './decider-fixtures'

/** A purchase p1 with what was spent of it at M (purchased) and at N (bonus). */
const bought = (
  spent: { readonly atMCents: number; readonly bonusAtNCents: number },
  command: PurchaseVoucher = purchaseCommand('p1'),
  ledger: TestLedger = seasonLedger(),
): TestLedger => {
  const response = ledger.apply(purchase(ledger, command)).response
  const spend = (voucherId: string | null, merchantId: string, amountCents: number) => {
    if (voucherId === null || amountCents === 0) return
    const redemption = {
      redemptionId: id(`spend-${voucherId}`),
      voucherId: id(voucherId),
      merchantId: id(merchantId),
      amountCents: cents(amountCents),
    }
    const voucher = ledger.voucher(voucherId)
    ledger.apply(decideRedeemVoucher(redemption, voucher, ledger.merchant(merchantId), context()))
  }
  spend(response.voucherId, merchantM, spent.atMCents)
  spend(response.bonusVoucherId, merchantN, spent.bonusAtNCents)
  return ledger
}

const refund = (ledger: TestLedger, refundId = 'refund-1', ctx: CommandContext = context()) => {
  const purchased = ledger.voucher('V-p1')
  const bonusVoucherId = purchased.issued ? purchased.bonusVoucherId : null
  const bonus = bonusVoucherId === null ? undefined : ledger.voucher(bonusVoucherId)
  const command = { refundId: id(refundId), purchaseId: id('p1') }
  return decideRefundPurchase(command, purchased, bonus, ledger.programme(), ctx)
}

t.test('the example of DOMAIN.md: 50.00 back, 5.00 cancelled, 10.00 recovered', async (t) => {
  const ledger = bought({ atMCents: 4_000, bonusAtNCents: 2_000 })
  const decision = ledger.apply(refund(ledger))

  t.strictSame(decision.response, {
    refundedCents: 5_000,
    bonusReducedCents: 500,
    deductedCents: 1_000,
  })
  t.strictSame(decision.appends, [
    {
      streamId: 'voucher-V-p1',
      events: [
        event('PurchaseRefunded', {
          refundId: id('refund-1'),
          purchaseId: id('p1'),
          programmeId,
          merchantId: merchantM,
          customerId,
          voucherId: id('V-p1'),
          bonusVoucherId: id('B-p1'),
          unredeemedCents: cents(6_000),
          refundedCents: cents(5_000),
          recoveredCents: cents(1_000),
          bonusCancelledCents: cents(500),
          newBonusEntitlementCents: cents(1_000),
        }),
      ],
    },
    {
      streamId: 'voucher-B-p1',
      events: [
        event('BonusVoucherReduced', {
          refundId: id('refund-1'),
          voucherId: id('B-p1'),
          purchaseId: id('p1'),
          reducedCents: cents(500),
          remainingCents: cents(0),
        }),
      ],
    },
    {
      streamId: 'programme-moselle-sud-2020',
      events: [
        event('BonusReleased', {
          programmeId,
          purchaseId: id('p1'),
          refundId: id('refund-1'),
          customerId,
          cancelledCents: cents(500),
          recoveredCents: cents(1_000),
        }),
      ],
    },
  ])

  t.match(ledger.voucher('V-p1'), { status: 'refunded', remainingCents: 0, refundedCents: 6_000 })
  t.match(ledger.voucher('B-p1'), {
    status: 'refunded',
    valueCents: 2_000,
    redeemedCents: 2_000,
    remainingCents: 0,
  })
  const programme = ledger.programme()
  if (!programme.created) throw new Error('programme expected')
  t.equal(programme.releasedCents, 1_500)
  t.equal(programme.availableCents, 1_000_000 - 2_500 + 1_500)
  t.equal(customerBonusCents(programme, customerId), 1_000, 'the customer keeps 10.00 of bonus')
})

t.test('rule 6 in its other cases', async (t) => {
  const cases = [
    {
      name: 'nothing spent: everything back, the whole bonus cancelled',
      spent: { atMCents: 0, bonusAtNCents: 0 },
      response: { refundedCents: 10_000, bonusReducedCents: 2_500, deductedCents: 0 },
      bonusAfter: { status: 'refunded', remainingCents: 0, valueCents: 0 },
    },
    {
      name: 'bonus spent within the new entitlement: only unspent bonus above it is cancelled',
      spent: { atMCents: 6_000, bonusAtNCents: 500 },
      response: { refundedCents: 4_000, bonusReducedCents: 1_000, deductedCents: 0 },
      bonusAfter: { status: 'active', remainingCents: 1_000, valueCents: 1_500 },
    },
    {
      name: 'the whole bonus spent, nothing redeemed at M: all of it recovered',
      spent: { atMCents: 0, bonusAtNCents: 2_500 },
      response: { refundedCents: 7_500, bonusReducedCents: 0, deductedCents: 2_500 },
      bonusAfter: { status: 'spent', remainingCents: 0, valueCents: 2_500 },
    },
    {
      name: 'the new entitlement is rounded down: 25 % of 33.33 is 8.33',
      spent: { atMCents: 3_333, bonusAtNCents: 0 },
      response: { refundedCents: 6_667, bonusReducedCents: 1_667, deductedCents: 0 },
      bonusAfter: { status: 'active', remainingCents: 833, valueCents: 833 },
    },
    {
      name: 'the last cent pays back the cent of bonus that 25 % of 99.99 rounds away',
      spent: { atMCents: 9_999, bonusAtNCents: 2_500 },
      response: { refundedCents: 0, bonusReducedCents: 0, deductedCents: 1 },
      bonusAfter: { status: 'spent', remainingCents: 0, valueCents: 2_500 },
    },
  ]
  for (const c of cases) {
    const ledger = bought(c.spent)
    const decision = ledger.apply(refund(ledger))
    t.strictSame(decision.response, c.response, c.name)
    t.match(ledger.voucher('B-p1'), c.bonusAfter, `${c.name}: bonus voucher`)
    const programmeEvents = decision.appends.filter((a) => a.streamId.startsWith('programme-'))
    const released = c.response.bonusReducedCents + c.response.deductedCents
    t.equal(programmeEvents.length, released > 0 ? 1 : 0, `${c.name}: programme written`)
  }
})

t.test('the entitlement never exceeds the bonus first granted', async (t) => {
  const ledger = bought(
    { atMCents: 8_000, bonusAtNCents: 0 },
    purchaseCommand('p1'),
    seasonLedger({
      funders: [{ funderId: id('region-ge'), name: 'Région', contributionCents: cents(1_000) }],
    }),
  )
  const decision = ledger.apply(refund(ledger))
  t.strictSame(decision.response, { refundedCents: 2_000, bonusReducedCents: 0, deductedCents: 0 })
  t.match(decision.appends[0]?.events[0]?.data, { newBonusEntitlementCents: 1_000 })
  t.strictSame(
    decision.appends.map((append) => append.streamId),
    ['voucher-V-p1'],
    'nothing to take from the bonus: neither the bonus nor the programme stream is written',
  )
})

t.test('a purchase with no bonus voucher refunds its unredeemed part', async (t) => {
  const ledger = bought(
    { atMCents: 1_000, bonusAtNCents: 0 },
    purchaseCommand('p1'),
    seasonLedger({
      funders: [{ funderId: id('region-ge'), name: 'Région', contributionCents: cents(1) }],
      bonusRateBasisPoints: 0,
    }),
  )
  const decision = ledger.apply(refund(ledger))
  t.strictSame(decision.response, { refundedCents: 9_000, bonusReducedCents: 0, deductedCents: 0 })
  t.match(decision.appends[0]?.events[0]?.data, { bonusVoucherId: null, unredeemedCents: 9_000 })
})

t.test('RefundPurchase refuses, one case per rejection code', async (t) => {
  const refunded = () => {
    const ledger = bought({ atMCents: 0, bonusAtNCents: 0 })
    ledger.apply(refund(ledger))
    return ledger
  }
  const expired = () =>
    bought({ atMCents: 0, bonusAtNCents: 0 }).record(
      streams.voucher('V-p1'),
      [
        event('VoucherExpired', {
          runId: id('run'),
          voucherId: id('V-p1'),
          kind: 'purchased',
          programmeId,
          merchantId: merchantM,
          expiredCents: cents(10_000),
        }),
      ],
      '2021-01-01T00:00:00.000Z',
    )
  const stated = context('2020-07-01T09:59:59.999Z', { recordedAt: nowAt })
  const cases: { name: string; ledger: TestLedger; ctx?: CommandContext; code: string }[] = [
    { name: 'an unknown purchase', ledger: seasonLedger(), code: 'not_found' },
    {
      name: 'a future time',
      ledger: bought({ atMCents: 0, bonusAtNCents: 0 }),
      ctx: futureContext(),
      code: 'invalid_time',
    },
    {
      name: 'a stated time before the voucher last moved',
      ledger: bought({ atMCents: 0, bonusAtNCents: 0 }),
      ctx: stated,
      code: 'invalid_time',
    },
    { name: 'a purchase refunded already', ledger: refunded(), code: 'refund_not_allowed' },
    { name: 'an expired purchase', ledger: expired(), code: 'refund_not_allowed' },
    {
      name: 'a purchase wholly redeemed',
      ledger: bought({ atMCents: 10_000, bonusAtNCents: 0 }),
      code: 'refund_not_allowed',
    },
  ]
  for (const c of cases) t.equal(codeOf(refund(c.ledger, 'refund-2', c.ctx)), c.code, c.name)
})

t.test('the same refund id again answers as the first time and appends nothing', async (t) => {
  const ledger = bought({ atMCents: 4_000, bonusAtNCents: 2_000 })
  ledger.apply(refund(ledger))
  const replay = decisionOf(refund(ledger))
  t.strictSame(replay, {
    appends: [],
    response: { refundedCents: 5_000, bonusReducedCents: 500, deductedCents: 1_000 },
  })
})

t.test('a refund asserts the shell loaded the streams of the purchase', async (t) => {
  const ledger = bought({ atMCents: 0, bonusAtNCents: 0 })
  const command = { refundId: id('refund-1'), purchaseId: id('p1') }
  const purchased = ledger.voucher('V-p1')
  t.throws(() => decideRefundPurchase(command, purchased, undefined, ledger.programme(), context()))
  t.throws(() =>
    decideRefundPurchase(command, ledger.voucher('B-p1'), undefined, ledger.programme(), context()),
  )
  t.throws(() =>
    decideRefundPurchase(
      command,
      purchased,
      ledger.voucher('B-p1'),
      seasonLedger().programme('x'),
      context(),
    ),
  )
})
