import t from 'tap'
import type { CommandContext } from '../../domain/decider'
import { customerBonusCents, programmeVoucherIds } from '../../domain/programme'
import { streams } from '../../domain/streams'
import { decideVoucherPurchase, type PurchaseVoucher } from '../../domain/voucher'
import {
  cents,
  codeOf,
  context,
  customerId,
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

t.test('a purchase grants its bonus and issues both vouchers', async (t) => {
  const ledger = seasonLedger()
  const decision = decisionOf(purchase(ledger, purchaseCommand('p1')))

  t.strictSame(decision.response, {
    purchaseId: 'p1',
    voucherId: 'V-p1',
    bonusVoucherId: 'B-p1',
    amountCents: 10_000,
    bonusCents: 2_500,
    bonusReduced: false,
  })
  const shared = { purchaseId: 'p1', programmeId, merchantId: merchantM, customerId }
  t.strictSame(decision.appends, [
    {
      streamId: 'programme-moselle-sud-2020',
      events: [
        event('BonusGranted', {
          ...shared,
          voucherId: id('V-p1'),
          bonusVoucherId: id('B-p1'),
          requestedBonusCents: cents(2_500),
          bonusCents: cents(2_500),
        } as never),
      ],
    },
    {
      streamId: 'voucher-V-p1',
      events: [
        event('VoucherPurchased', {
          ...shared,
          voucherId: id('V-p1'),
          bonusVoucherId: id('B-p1'),
          amountCents: cents(10_000),
          bonusCents: cents(2_500),
          requestedBonusCents: cents(2_500),
          paymentReference: 'psp-p1',
          validUntil: day('2020-12-31'),
        } as never),
      ],
    },
    {
      streamId: 'voucher-B-p1',
      events: [
        event('BonusVoucherIssued', {
          ...shared,
          voucherId: id('B-p1'),
          purchasedVoucherId: id('V-p1'),
          valueCents: cents(2_500),
          validUntil: day('2020-12-31'),
        } as never),
      ],
    },
  ])
})

t.test('the states after a purchase', async (t) => {
  const ledger = seasonLedger()
  ledger.apply(purchase(ledger, purchaseCommand('p1')))

  const programme = ledger.programme()
  if (!programme.created) throw new Error('programme expected')
  t.equal(programme.grantedCents, 2_500)
  t.equal(programme.availableCents, 1_000_000 - 2_500)
  t.equal(customerBonusCents(programme, customerId), 2_500)
  t.strictSame(programmeVoucherIds(programme), ['V-p1', 'B-p1'])

  const purchased = ledger.voucher('V-p1')
  const bonus = ledger.voucher('B-p1')
  if (!purchased.issued || !bonus.issued) throw new Error('vouchers expected')
  t.match(purchased, {
    kind: 'purchased',
    merchantId: merchantM,
    valueCents: 10_000,
    remainingCents: 10_000,
    status: 'active',
    bonusVoucherId: 'B-p1',
    bonusCents: 2_500,
    validUntil: '2020-12-31',
    lastOccurredAt: nowAt,
  })
  t.match(bonus, {
    kind: 'bonus',
    merchantId: merchantM,
    valueCents: 2_500,
    remainingCents: 2_500,
    status: 'active',
    purchasedVoucherId: 'V-p1',
    bonusVoucherId: null,
  })
})

t.test('the bonus is rounded down to the cent', async (t) => {
  const cases = [
    { amountCents: 1_999, bonusCents: 499 },
    { amountCents: 3, bonusCents: 0 },
    { amountCents: 4, bonusCents: 1 },
    { amountCents: 10_003, bonusCents: 2_500 },
  ]
  for (const c of cases) {
    const command = purchaseCommand('p1', { amountCents: cents(c.amountCents) })
    const decision = decisionOf(purchase(seasonLedger(), command))
    t.equal(decision.response.bonusCents, c.bonusCents, `${c.amountCents} cents`)
    t.equal(decision.response.bonusReduced, false, 'rounding is not a reduction')
  }
})

t.test('a bonus the budget cannot cover is reduced, then zero', async (t) => {
  const ledger = seasonLedger({
    funders: [{ funderId: id('region-ge'), name: 'Région', contributionCents: cents(3_000) }],
  })
  const first = ledger.apply(purchase(ledger, purchaseCommand('p1')))
  t.strictSame(first.response.bonusCents, 2_500)

  const second = ledger.apply(purchase(ledger, purchaseCommand('p2')))
  t.match(second.response, { bonusCents: 500, bonusReduced: true, bonusVoucherId: 'B-p2' })
  t.match(second.appends[0]?.events[0]?.data, { requestedBonusCents: 2_500, bonusCents: 500 })

  const third = ledger.apply(purchase(ledger, purchaseCommand('p3')))
  t.match(third.response, { bonusCents: 0, bonusReduced: true, bonusVoucherId: null })
  t.strictSame(
    third.appends.map((append) => append.streamId),
    ['programme-moselle-sud-2020', 'voucher-V-p3'],
    'no bonus voucher when the bonus is zero',
  )
  t.match(third.appends[0]?.events[0]?.data, { bonusVoucherId: null, bonusCents: 0 })
  t.match(third.appends[1]?.events[0]?.data, { bonusVoucherId: null, bonusCents: 0 })

  const programme = ledger.programme()
  t.equal(programme.created && programme.availableCents, 0, 'the budget is spent, never overspent')
  t.strictSame(
    programme.created && programmeVoucherIds(programme),
    ['V-p1', 'B-p1', 'V-p2', 'B-p2', 'V-p3'],
  )
})

t.test('a bonus is reduced to what the customer cap still allows', async (t) => {
  const ledger = seasonLedger({ maxBonusPerCustomerCents: cents(3_000) })
  ledger.apply(purchase(ledger, purchaseCommand('p1')))

  const capped = ledger.apply(purchase(ledger, purchaseCommand('p2')))
  t.match(capped.response, { bonusCents: 500, bonusReduced: true })

  const nothingLeft = ledger.apply(purchase(ledger, purchaseCommand('p3')))
  t.match(nothingLeft.response, { bonusCents: 0, bonusReduced: true, bonusVoucherId: null })

  const otherCustomer = purchaseCommand('p4', { customerId: id('customer-2') })
  t.match(decisionOf(purchase(ledger, otherCustomer)).response, { bonusCents: 2_500 })

  ledger.record(streams.programme(programmeId), [
    event('BonusReleased', {
      programmeId,
      purchaseId: id('p1'),
      refundId: id('r1'),
      customerId,
      cancelledCents: cents(1_000),
      recoveredCents: cents(200),
    }),
  ])
  const afterRefund = decisionOf(purchase(ledger, purchaseCommand('p5')))
  t.match(afterRefund.response, { bonusCents: 1_200, bonusReduced: true }, 'a refund frees the cap')
})

t.test('the smaller of budget and cap wins', async (t) => {
  const ledger = seasonLedger({
    funders: [{ funderId: id('region-ge'), name: 'Région', contributionCents: cents(700) }],
    maxBonusPerCustomerCents: cents(900),
  })
  t.match(decisionOf(purchase(ledger, purchaseCommand('p1'))).response, { bonusCents: 700 })
})

/** The season with vouchers of 10.00 to 200.00. */
const limited = () =>
  seasonLedger({ minVoucherCents: cents(1_000), maxVoucherCents: cents(20_000) })

/** The same, with N suspended. */
const suspendedN = () =>
  limited().record(streams.merchant(merchantN), [merchantSuspended(merchantN)])

/** Given a ledger, when this purchase, then this code: one case per code, and precedence. */
const purchaseRejections: {
  name: string
  ledger: TestLedger
  command: PurchaseVoucher
  context?: CommandContext
  code: string
}[] = [
  {
    name: 'an unknown programme',
    ledger: limited(),
    command: purchaseCommand('p1', { programmeId: id('other') }),
    code: 'not_found',
  },
  {
    name: 'an unknown merchant',
    ledger: limited(),
    command: purchaseCommand('p1', { merchantId: id('nobody') }),
    code: 'not_found',
  },
  {
    name: 'a future time',
    ledger: limited(),
    command: purchaseCommand('p1'),
    context: futureContext(),
    code: 'invalid_time',
  },
  {
    name: 'a stated time before the programme last moved',
    ledger: limited(),
    command: purchaseCommand('p1'),
    context: context('2020-05-15T07:59:59.999Z', { recordedAt: nowAt }),
    code: 'invalid_time',
  },
  {
    name: 'before the first valid day',
    ledger: seasonLedger({ validFrom: day('2020-08-01') }),
    command: purchaseCommand('p1'),
    code: 'invalid_time',
  },
  {
    name: 'after the last valid day',
    ledger: limited(),
    command: purchaseCommand('p1'),
    context: context('2021-01-02T10:00:00.000Z'),
    code: 'invalid_time',
  },
  {
    name: 'a suspended merchant',
    ledger: suspendedN(),
    command: purchaseCommand('p1', { merchantId: merchantN }),
    code: 'merchant_suspended',
  },
  {
    name: 'an amount below the minimum',
    ledger: limited(),
    command: purchaseCommand('p1', { amountCents: cents(999) }),
    code: 'amount_out_of_range',
  },
  {
    name: 'an amount above the maximum',
    ledger: limited(),
    command: purchaseCommand('p1', { amountCents: cents(20_001) }),
    code: 'amount_out_of_range',
  },
  {
    name: 'a suspended merchant and a bad amount: the first rule wins',
    ledger: suspendedN(),
    command: purchaseCommand('p1', { merchantId: merchantN, amountCents: cents(1) }),
    code: 'merchant_suspended',
  },
]

t.test('PurchaseVoucher refuses, one case per rejection code', async (t) => {
  for (const c of purchaseRejections) {
    t.equal(codeOf(purchase(c.ledger, c.command, c.context)), c.code, c.name)
  }
})

t.test('the voucher limits themselves are accepted', async (t) => {
  for (const amountCents of [cents(1_000), cents(20_000)]) {
    const decision = decisionOf(purchase(limited(), purchaseCommand('p1', { amountCents })))
    t.equal(decision.response.amountCents, amountCents)
  }
})

t.test('no purchase once the expiry run has happened', async (t) => {
  const ledger = seasonLedger().record(
    streams.programme(programmeId),
    [
      event('ExpiryRunCompleted', {
        programmeId,
        runId: id('run-1'),
        expiredVoucherCount: 0,
        expiredBonusCents: cents(0),
        expiredPurchasedCents: cents(0),
      }),
    ],
    '2020-06-01T00:00:00.000Z',
  )
  t.equal(codeOf(purchase(ledger, purchaseCommand('p1'))), 'invalid_time')
})

t.test('validity ends with the last day in Europe/Paris, winter and summer', async (t) => {
  const winter = seasonLedger({ validUntil: day('2020-12-31') })
  const cases = [
    { ledger: winter, at: '2020-12-31T22:59:59.999Z', ok: true },
    { ledger: winter, at: '2020-12-31T23:00:00.000Z', ok: false },
    { ledger: winter, at: '2020-04-30T21:59:59.999Z', ok: false },
    { ledger: winter, at: '2020-04-30T22:00:00.000Z', ok: true },
  ]
  const summer = seasonLedger({ validFrom: day('2021-06-01'), validUntil: day('2021-07-31') })
  cases.push(
    { ledger: summer, at: '2021-05-31T21:59:59.999Z', ok: false },
    { ledger: summer, at: '2021-05-31T22:00:00.000Z', ok: true },
    { ledger: summer, at: '2021-07-31T21:59:59.999Z', ok: true },
    { ledger: summer, at: '2021-07-31T22:00:00.000Z', ok: false },
  )
  for (const c of cases) {
    const result = purchase(c.ledger, purchaseCommand('p1'), context(c.at))
    if (c.ok) t.ok(decisionOf(result), c.at)
    else t.equal(codeOf(result), 'invalid_time', c.at)
  }
})

t.test('a purchase asserts the shell loaded the right streams', async (t) => {
  const ledger = seasonLedger()
  const command = purchaseCommand('p1')
  t.throws(() =>
    decideVoucherPurchase(command, ledger.programme(), ledger.merchant(merchantN), context()),
  )
  const sameIds = purchaseCommand('p1', { bonusVoucherId: id('V-p1') })
  t.throws(() => purchase(ledger, sameIds))
})
