import t from 'tap'
import type { CommandContext } from '../../domain/decider'
import { streams } from '../../domain/streams'
import { decideRedeemVoucher, type RedeemVoucher } from '../../domain/voucher'
import {
  cents,
  codeOf,
  context,
  day,
  decisionOf,
  event,
  futureContext,
  id,
  merchantM,
  merchantN,
  merchantSuspended,
  nowAt,
  programmeId,
  purchase,
  purchaseCommand,
  seasonLedger,
  TestLedger,
} from './decider-fixtures'

/** The season with purchase p1 (100.00 at M, bonus 25.00) made on 1 July. */
const purchased = (overrides: Parameters<typeof seasonLedger>[0] = {}): TestLedger => {
  const ledger = seasonLedger(overrides)
  ledger.apply(purchase(ledger, purchaseCommand('p1')))
  return ledger
}

const redeem = (
  voucher: string,
  merchant: string,
  amountCents: number,
  redemptionId = 'r1',
): RedeemVoucher => ({
  redemptionId: id(redemptionId),
  voucherId: id(voucher),
  merchantId: id(merchant),
  amountCents: cents(amountCents),
})

const decide = (ledger: TestLedger, command: RedeemVoucher, ctx: CommandContext = context()) =>
  decideRedeemVoucher(
    command,
    ledger.voucher(command.voucherId),
    ledger.merchant(command.merchantId),
    ctx,
  )

t.test('a partial redemption leaves the rest spendable', async (t) => {
  const ledger = purchased()
  const first = ledger.apply(decide(ledger, redeem('V-p1', merchantM, 4_000)))
  t.strictSame(first.response, {
    redemptionId: 'r1',
    voucherId: 'V-p1',
    amountCents: 4_000,
    remainingCents: 6_000,
  })
  t.strictSame(first.appends, [
    {
      streamId: 'voucher-V-p1',
      events: [
        event('VoucherRedeemed', {
          redemptionId: id('r1'),
          voucherId: id('V-p1'),
          kind: 'purchased',
          programmeId,
          merchantId: merchantM,
          amountCents: cents(4_000),
          remainingCents: cents(6_000),
        }),
      ],
    },
  ])
  t.match(ledger.voucher('V-p1'), { redeemedCents: 4_000, remainingCents: 6_000, status: 'active' })

  const rest = ledger.apply(decide(ledger, redeem('V-p1', merchantM, 6_000, 'r2')))
  t.equal(rest.response.remainingCents, 0)
  t.match(ledger.voucher('V-p1'), { redeemedCents: 10_000, remainingCents: 0, status: 'spent' })
  t.equal(codeOf(decide(ledger, redeem('V-p1', merchantM, 1, 'r3'))), 'insufficient_balance')
})

t.test('a bonus voucher is spent at another merchant', async (t) => {
  const ledger = purchased()
  const decision = ledger.apply(decide(ledger, redeem('B-p1', merchantN, 2_000)))
  t.match(decision.appends[0]?.events[0]?.data, { kind: 'bonus', merchantId: merchantN })
  t.match(ledger.voucher('B-p1'), { redeemedCents: 2_000, remainingCents: 500 })
})

t.test('a voucher is never spent twice', async (t) => {
  const ledger = purchased()
  const loaded = ledger.voucher('V-p1')
  const merchant = ledger.merchant(merchantM)
  const onLoaded = (command: RedeemVoucher) =>
    decisionOf(decideRedeemVoucher(command, loaded, merchant, context()))
  const first = onLoaded(redeem('V-p1', merchantM, 7_000))
  onLoaded(redeem('V-p1', merchantM, 7_000, 'r2'))
  t.pass('two decisions on one revision are both accepted; the store keeps only the first')

  ledger.record(streams.voucher('V-p1'), first.appends[0]?.events ?? [], nowAt)
  t.equal(codeOf(decide(ledger, redeem('V-p1', merchantM, 7_000, 'r2'))), 'insufficient_balance')
})

t.test('a repeated redemption id answers as the first time, or conflicts', async (t) => {
  const ledger = purchased()
  ledger.apply(decide(ledger, redeem('V-p1', merchantM, 4_000)))
  ledger.apply(decide(ledger, redeem('V-p1', merchantM, 1_000, 'r2')))

  const replay = decisionOf(decide(ledger, redeem('V-p1', merchantM, 4_000)))
  t.strictSame(replay.appends, [])
  t.strictSame(replay.response, {
    redemptionId: 'r1',
    voucherId: 'V-p1',
    amountCents: 4_000,
    remainingCents: 6_000,
  })
  t.equal(codeOf(decide(ledger, redeem('V-p1', merchantM, 4_001))), 'already_exists')
})

/** p1, with N suspended. */
const withSuspendedN = () =>
  purchased().record(streams.merchant(merchantN), [merchantSuspended(merchantN)])

/** p1, its purchased voucher expired by a run. */
const expiredLedger = () =>
  purchased().record(
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
/** p1, refunded in full. */
const refundedLedger = () =>
  purchased().record(
    streams.voucher('V-p1'),
    [
      event('PurchaseRefunded', {
        refundId: id('refund'),
        purchaseId: id('p1'),
        programmeId,
        merchantId: merchantM,
        customerId: id('customer-1'),
        voucherId: id('V-p1'),
        bonusVoucherId: id('B-p1'),
        unredeemedCents: cents(10_000),
        refundedCents: cents(10_000),
        recoveredCents: cents(0),
        bonusCancelledCents: cents(2_500),
        newBonusEntitlementCents: cents(0),
      }),
    ],
    nowAt,
  )

const afterDay = context('2020-12-31T23:00:00.000Z')

/** Given a ledger, when this redemption, then this code: one case per code, and precedence. */
const redeemRejections: {
  name: string
  ledger: TestLedger
  command: RedeemVoucher
  ctx?: CommandContext
  code: string
}[] = [
  {
    name: 'an unknown voucher',
    ledger: purchased(),
    command: redeem('V-none', merchantM, 1),
    code: 'not_found',
  },
  {
    name: 'an unknown merchant',
    ledger: purchased(),
    command: redeem('V-p1', 'nobody', 1),
    code: 'not_found',
  },
  {
    name: 'a future time',
    ledger: purchased(),
    command: redeem('V-p1', merchantM, 1),
    ctx: futureContext(),
    code: 'invalid_time',
  },
  {
    name: 'a stated time before the voucher last moved',
    ledger: purchased(),
    command: redeem('V-p1', merchantM, 1),
    ctx: context('2020-07-01T09:59:59.999Z', { recordedAt: nowAt }),
    code: 'invalid_time',
  },
  {
    name: 'a suspended merchant',
    ledger: withSuspendedN(),
    command: redeem('B-p1', merchantN, 1),
    code: 'merchant_suspended',
  },
  {
    name: 'a purchased voucher elsewhere',
    ledger: purchased(),
    command: redeem('V-p1', merchantN, 1),
    code: 'wrong_merchant',
  },
  {
    name: 'a bonus voucher at its own merchant',
    ledger: purchased(),
    command: redeem('B-p1', merchantM, 1),
    code: 'wrong_merchant',
  },
  {
    name: 'after the last valid day',
    ledger: purchased(),
    command: redeem('V-p1', merchantM, 1),
    ctx: afterDay,
    code: 'voucher_expired',
  },
  {
    name: 'an expired voucher',
    ledger: expiredLedger(),
    command: redeem('V-p1', merchantM, 1),
    code: 'voucher_expired',
  },
  {
    name: 'more than remains',
    ledger: purchased(),
    command: redeem('V-p1', merchantM, 10_001),
    code: 'insufficient_balance',
  },
  {
    name: 'a refunded voucher',
    ledger: refundedLedger(),
    command: redeem('V-p1', merchantM, 1),
    code: 'insufficient_balance',
  },
  {
    name: 'wrong merchant and too much: the first rule wins',
    ledger: purchased(),
    command: redeem('V-p1', merchantN, 99_999),
    code: 'wrong_merchant',
  },
]

t.test('RedeemVoucher refuses, one case per rejection code', async (t) => {
  for (const c of redeemRejections) {
    t.equal(codeOf(decide(c.ledger, c.command, c.ctx)), c.code, c.name)
  }
})

t.test('a redemption of zero cents is out of range', async (t) => {
  t.equal(codeOf(decide(purchased(), redeem('V-p1', merchantM, 0))), 'amount_out_of_range')
})

t.test('a voucher is valid to the end of its day in Europe/Paris, winter and summer', async (t) => {
  const summer = () => {
    const ledger = seasonLedger({ validFrom: day('2021-06-01'), validUntil: day('2021-07-31') })
    ledger.apply(purchase(ledger, purchaseCommand('p1'), context('2021-07-01T10:00:00.000Z')))
    return ledger
  }
  const cases = [
    { ledger: purchased, at: '2020-12-31T22:59:59.999Z', ok: true },
    { ledger: purchased, at: '2020-12-31T23:00:00.000Z', ok: false },
    { ledger: summer, at: '2021-07-31T21:59:59.999Z', ok: true },
    { ledger: summer, at: '2021-07-31T22:00:00.000Z', ok: false },
  ]
  for (const c of cases) {
    const result = decide(c.ledger(), redeem('V-p1', merchantM, 100), context(c.at))
    if (c.ok) t.equal(decisionOf(result).response.remainingCents, 9_900, c.at)
    else t.equal(codeOf(result), 'voucher_expired', c.at)
  }
})

t.test('evolve asserts what a sound log never holds', async (t) => {
  const overspent = event('VoucherRedeemed', {
    redemptionId: id('r9'),
    voucherId: id('V-p1'),
    kind: 'purchased',
    programmeId,
    merchantId: merchantM,
    amountCents: cents(10_001),
    remainingCents: cents(0),
  })
  t.throws(
    () => purchased().record(streams.voucher('V-p1'), [overspent]).voucher('V-p1'),
    /spent twice/,
  )
  t.throws(() => new TestLedger().record(streams.voucher('V-x'), [overspent]).voucher('V-x'))
  const purchasedAgain = purchased().events(streams.voucher('V-p1'))
  t.throws(() => purchased().record(streams.voucher('V-p1'), purchasedAgain).voucher('V-p1'))
  const ledger = purchased()
  const wrongStream = () =>
    decideRedeemVoucher(
      redeem('V-p1', merchantM, 1),
      ledger.voucher('B-p1'),
      ledger.merchant(merchantM),
      context(),
    )
  t.throws(wrongStream, /another voucher/, 'the shell loaded another voucher than named')

  const unrelated = event('MerchantSuspended', { merchantId: merchantM, reason: 'r' })
  const before = ledger.voucher('V-p1')
  ledger.record(streams.voucher('V-p1'), [unrelated], '2020-12-01T00:00:00.000Z')
  t.strictSame(ledger.voucher('V-p1'), before, 'events of other streams are ignored')
})
