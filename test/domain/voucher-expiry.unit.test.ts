import t from 'tap'
import type { CommandContext } from '../../domain/decider'
import { programmeVoucherIds } from '../../domain/programme'
import {
  decideRedeemVoucher,
  decideRefundPurchase,
  decideRunExpiry,
  type VoucherState,
} from '../../domain/voucher'
import {
  cents,
  codeOf,
  context,
  day,
  decisionOf,
  event,
  id,
  merchantM,
  merchantN,
  programmeId,
  purchase,
  purchaseCommand,
  seasonLedger,
  TestLedger,
} from './decider-fixtures'

/** The first instant after the season: 2020-12-31 ends at 22:59:59.999Z in Europe/Paris. */
const afterSeason = '2020-12-31T23:00:00.000Z'

const redeem = (ledger: TestLedger, voucherId: string, merchantId: string, amountCents: number) =>
  ledger.apply(
    decideRedeemVoucher(
      {
        redemptionId: id(`r-${voucherId}`),
        voucherId: id(voucherId),
        merchantId: id(merchantId),
        amountCents: cents(amountCents),
      },
      ledger.voucher(voucherId),
      ledger.merchant(merchantId),
      context(),
    ),
  )

/**
 * p1: 100.00 at M, 40.00 of it and 10.00 of its bonus spent; p2: 50.00 at N, wholly spent, its
 * bonus untouched; p3: 20.00 at M, refunded, so its bonus was cancelled.
 */
const season = (): TestLedger => {
  const ledger = seasonLedger()
  ledger.apply(purchase(ledger, purchaseCommand('p1')))
  redeem(ledger, 'V-p1', merchantM, 4_000)
  redeem(ledger, 'B-p1', merchantN, 1_000)

  const atN = purchaseCommand('p2', { merchantId: merchantN, amountCents: cents(5_000) })
  ledger.apply(purchase(ledger, atN))
  redeem(ledger, 'V-p2', merchantN, 5_000)

  ledger.apply(purchase(ledger, purchaseCommand('p3', { amountCents: cents(2_000) })))
  ledger.apply(
    decideRefundPurchase(
      { refundId: id('refund-p3'), purchaseId: id('p3') },
      ledger.voucher('V-p3'),
      ledger.voucher('B-p3'),
      ledger.programme(),
      context(),
    ),
  )
  return ledger
}

const vouchersOf = (ledger: TestLedger): Map<string, VoucherState> => {
  const programme = ledger.programme()
  if (!programme.created) return new Map()
  return new Map(programmeVoucherIds(programme).map((v) => [v, ledger.voucher(v)]))
}

const runExpiry = (
  ledger: TestLedger,
  ctx: CommandContext = context(afterSeason),
  runId = 'run-1',
) =>
  decideRunExpiry(
    { runId: id(runId), programmeId },
    ledger.programme(),
    vouchersOf(ledger),
    ctx,
  )

t.test('expiry takes only what remains on active vouchers', async (t) => {
  const ledger = season()
  const decision = ledger.apply(runExpiry(ledger), afterSeason)

  t.strictSame(decision.response, {
    expiredVoucherCount: 3,
    expiredBonusCents: 1_500 + 1_250,
    expiredPurchasedCents: 6_000,
  })
  const expired = (
    voucherId: string,
    kind: 'purchased' | 'bonus',
    merchantId: string,
    n: number,
  ) => ({
    streamId: `voucher-${voucherId}`,
    events: [
      event('VoucherExpired', {
        runId: id('run-1'),
        voucherId: id(voucherId),
        kind,
        programmeId,
        merchantId: id(merchantId),
        expiredCents: cents(n),
      }),
    ],
  })
  t.strictSame(decision.appends, [
    expired('V-p1', 'purchased', merchantM, 6_000),
    expired('B-p1', 'bonus', merchantM, 1_500),
    expired('B-p2', 'bonus', merchantN, 1_250),
    {
      streamId: 'programme-moselle-sud-2020',
      events: [
        event('ExpiryRunCompleted', {
          programmeId,
          runId: id('run-1'),
          expiredVoucherCount: 3,
          expiredBonusCents: cents(2_750),
          expiredPurchasedCents: cents(6_000),
        }),
      ],
    },
  ])

  t.match(ledger.voucher('V-p1'), { status: 'expired', remainingCents: 0, expiredCents: 6_000 })
  t.match(ledger.voucher('V-p2'), { status: 'spent' })
  t.match(ledger.voucher('V-p3'), { status: 'refunded' })
  const programme = ledger.programme()
  if (!programme.created) throw new Error('programme expected')
  t.equal(programme.expiredBonusCents, 2_750, 'unspent bonus goes back to the programme')
  t.equal(programme.expiryRan, true)
})

t.test('a second run finds nothing left and records zeros', async (t) => {
  const ledger = season()
  ledger.apply(runExpiry(ledger), afterSeason)
  const second = ledger.apply(runExpiry(ledger, context('2021-01-02T00:00:00.000Z'), 'run-2'))
  t.strictSame(second.response, {
    expiredVoucherCount: 0,
    expiredBonusCents: 0,
    expiredPurchasedCents: 0,
  })
  t.strictSame(second.appends.map((a) => a.streamId), ['programme-moselle-sud-2020'])
})

t.test('RunExpiry refuses, one case per rejection code', async (t) => {
  const stated = context('2021-01-01T00:00:00.000Z', { recordedAt: '2021-01-02T00:00:00.000Z' })
  const after = () => {
    const ledger = season()
    ledger.apply(runExpiry(ledger, context('2021-01-01T12:00:00.000Z')), '2021-01-01T12:00:00.000Z')
    return ledger
  }
  const cases: { name: string; ledger: TestLedger; ctx: CommandContext; code: string }[] = [
    {
      name: 'an unknown programme',
      ledger: new TestLedger(),
      ctx: context(afterSeason),
      code: 'not_found',
    },
    {
      name: 'a future time',
      ledger: season(),
      ctx: context('2021-01-01T00:00:00.001Z', { recordedAt: '2021-01-01T00:00:00.000Z' }),
      code: 'invalid_time',
    },
    {
      name: 'a stated time before the programme last moved',
      ledger: after(),
      ctx: stated,
      code: 'invalid_time',
    },
    {
      name: 'the last instant of the last valid day',
      ledger: season(),
      ctx: context('2020-12-31T22:59:59.999Z'),
      code: 'invalid_time',
    },
  ]
  for (const c of cases) t.equal(codeOf(runExpiry(c.ledger, c.ctx)), c.code, c.name)
})

t.test('the validity ends in Europe/Paris in summer too', async (t) => {
  const ledger = seasonLedger({ validFrom: day('2021-06-01'), validUntil: day('2021-07-31') })
  t.equal(codeOf(runExpiry(ledger, context('2021-07-31T21:59:59.999Z'))), 'invalid_time')
  t.strictSame(decisionOf(runExpiry(ledger, context('2021-07-31T22:00:00.000Z'))).response, {
    expiredVoucherCount: 0,
    expiredBonusCents: 0,
    expiredPurchasedCents: 0,
  })
})

t.test('an expiry run without the state of every voucher is an assertion', async (t) => {
  const ledger = season()
  const vouchers = vouchersOf(ledger)
  vouchers.delete('B-p2')
  t.throws(() =>
    decideRunExpiry(
      { runId: id('run-1'), programmeId },
      ledger.programme(),
      vouchers,
      context(afterSeason),
    ),
  )
})
