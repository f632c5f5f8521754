import t from 'tap'
import {
  accounts,
  accountSegment,
  isBalanced,
  parseAccount,
  postingsOf,
  type Posting,
} from '../../domain/postings'
import { eventCodecs, type EventType, type LedgerEvent } from '../../domain/events'
import {
  budgetIncreased,
  bonusVoucherIssued,
  event,
  merchantRegistered,
  payoutNotice,
  payoutScheduled,
  programmeCreated,
  purchaseRefunded,
  stockMoved,
  voucherExpired,
  voucherPurchased,
  voucherRedeemed,
} from '../projections/fixtures'

const clearing = accounts.processorClearing
const budget = accounts.budgetAvailable('P1')
const bonus = accounts.bonusOutstanding('P1')
const payable = (m: string) => accounts.merchantPayable(m)
const inFlight = (m: string) => accounts.merchantPayoutInFlight(m)
const issued = accounts.purchasedIssued('P1')
const outstanding = accounts.purchasedOutstanding('P1')

const lines = (...pairs: [string, number][]): Posting[] =>
  pairs.map(([account, amountCents]) => ({ account, amountCents }) as Posting)

const payoutBase = { payoutId: 'po1', merchantId: 'M1', amountCents: 700 }
type Status = 'in_flight' | 'paid' | 'failed'
const notice = (outcome: 'paid' | 'failed', statusBefore: Status, statusAfter: Status) =>
  payoutNotice({ ...payoutBase, outcome, statusBefore, statusAfter })

/** One case per event type, or per branch of an event's mapping; each names exact postings. */
const cases: { name: string; event: LedgerEvent; postings: Posting[] }[] = [
  {
    name: 'ProgrammeCreated: each funder contributes to the budget',
    event: programmeCreated('P1', [100_000, 50_000]),
    postings: lines(
      [accounts.funderContributions('P1', 'F1'), 100_000],
      [budget, -100_000],
      [accounts.funderContributions('P1', 'F2'), 50_000],
      [budget, -50_000],
    ),
  },
  {
    name: 'ProgrammeBudgetIncreased',
    event: budgetIncreased('P1', 'F2', 2_000),
    postings: lines([accounts.funderContributions('P1', 'F2'), 2_000], [budget, -2_000]),
  },
  {
    name: 'VoucherPurchased with a bonus',
    event: voucherPurchased({ amountCents: 10_000, bonusCents: 2_500 }),
    postings: lines(
      [clearing, 10_000],
      [payable('M1'), -10_000],
      [budget, 2_500],
      [bonus, -2_500],
      [issued, 10_000],
      [outstanding, -10_000],
    ),
  },
  {
    name: 'VoucherPurchased with no bonus left has no bonus lines',
    event: voucherPurchased({ amountCents: 10_000, bonusCents: 0 }),
    postings: lines(
      [clearing, 10_000],
      [payable('M1'), -10_000],
      [issued, 10_000],
      [outstanding, -10_000],
    ),
  },
  {
    name: 'VoucherRedeemed, bonus: public money owed to the merchant that took it',
    event: voucherRedeemed({
      voucherId: 'b-pu1',
      kind: 'bonus',
      merchantId: 'M2',
      amountCents: 2_000,
      remainingCents: 500,
    }),
    postings: lines([bonus, 2_000], [payable('M2'), -2_000]),
  },
  {
    name: 'VoucherRedeemed, purchased: memo only',
    event: voucherRedeemed({
      voucherId: 'v-pu1',
      kind: 'purchased',
      merchantId: 'M1',
      amountCents: 4_000,
      remainingCents: 6_000,
    }),
    postings: lines([outstanding, 4_000], [accounts.purchasedRedeemed('P1'), -4_000]),
  },
  {
    name: 'PurchaseRefunded: the example of DOMAIN.md rule 6',
    event: purchaseRefunded({
      unredeemedCents: 6_000,
      refundedCents: 5_000,
      recoveredCents: 1_000,
      bonusCancelledCents: 500,
      newBonusEntitlementCents: 1_000,
    }),
    postings: lines(
      [payable('M1'), 6_000],
      [clearing, -5_000],
      [budget, -1_000],
      [bonus, 500],
      [budget, -500],
      [outstanding, 6_000],
      [accounts.purchasedRefunded('P1'), -6_000],
    ),
  },
  {
    name: 'PurchaseRefunded with nothing recovered or cancelled',
    event: purchaseRefunded({
      unredeemedCents: 3_000,
      refundedCents: 3_000,
      recoveredCents: 0,
      bonusCancelledCents: 0,
      newBonusEntitlementCents: 0,
    }),
    postings: lines(
      [payable('M1'), 3_000],
      [clearing, -3_000],
      [outstanding, 3_000],
      [accounts.purchasedRefunded('P1'), -3_000],
    ),
  },
  {
    name: 'VoucherExpired, bonus: back to the budget',
    event: voucherExpired({ voucherId: 'b-pu1', kind: 'bonus', expiredCents: 300 }),
    postings: lines([bonus, 300], [budget, -300]),
  },
  {
    name: 'VoucherExpired, purchased: breakage in the memo only',
    event: voucherExpired({ voucherId: 'v-pu1', kind: 'purchased', expiredCents: 900 }),
    postings: lines([outstanding, 900], [accounts.purchasedExpired('P1'), -900]),
  },
  {
    name: 'VoucherExpired of nothing',
    event: voucherExpired({ voucherId: 'v-pu1', kind: 'purchased', expiredCents: 0 }),
    postings: [],
  },
  {
    name: 'PayoutScheduled',
    event: payoutScheduled('po1', 'M1', 700),
    postings: lines([payable('M1'), 700], [inFlight('M1'), -700]),
  },
  {
    name: 'PayoutNoticeRecorded in_flight -> paid',
    event: notice('paid', 'in_flight', 'paid'),
    postings: lines([inFlight('M1'), 700], [clearing, -700]),
  },
  {
    name: 'PayoutNoticeRecorded in_flight -> failed',
    event: notice('failed', 'in_flight', 'failed'),
    postings: lines([inFlight('M1'), 700], [payable('M1'), -700]),
  },
  {
    name: 'PayoutNoticeRecorded paid -> failed',
    event: notice('failed', 'paid', 'failed'),
    postings: lines([clearing, 700], [payable('M1'), -700]),
  },
  {
    name: 'PayoutNoticeRecorded failed -> paid',
    event: notice('paid', 'failed', 'paid'),
    postings: lines([payable('M1'), 700], [clearing, -700]),
  },
  {
    name: 'PayoutNoticeRecorded of an older notice changes nothing',
    event: notice('paid', 'failed', 'failed'),
    postings: [],
  },
]

const noMoney: LedgerEvent[] = [
  event('BonusGranted', {
    programmeId: 'P1',
    purchaseId: 'pu1',
    customerId: 'c1',
    merchantId: 'M1',
    voucherId: 'v-pu1',
    bonusVoucherId: 'b-pu1',
    requestedBonusCents: 2_500,
    bonusCents: 2_500,
  }),
  event('BonusReleased', {
    programmeId: 'P1',
    purchaseId: 'pu1',
    refundId: 'rf1',
    customerId: 'c1',
    cancelledCents: 500,
    recoveredCents: 1_000,
  }),
  event('ExpiryRunCompleted', {
    programmeId: 'P1',
    runId: 'x1',
    expiredVoucherCount: 2,
    expiredBonusCents: 300,
    expiredPurchasedCents: 900,
  }),
  merchantRegistered('M1'),
  event('MerchantSuspended', { merchantId: 'M1', reason: 'audit' }),
  event('MerchantReinstated', { merchantId: 'M1', reason: 'audit done' }),
  bonusVoucherIssued({ amountCents: 10_000, bonusCents: 2_500 }),
  event('BonusVoucherReduced', {
    refundId: 'rf1',
    voucherId: 'b-pu1',
    purchaseId: 'pu1',
    reducedCents: 500,
    remainingCents: 0,
  }),
  event('PayoutRunCompleted', { runId: 'run-1', payoutIds: ['po1'], totalCents: 700 }),
  stockMoved({
    merchantId: 'M1',
    sku: 'sku1',
    kind: 'received',
    quantity: 3,
    onHand: 3,
    reserved: 0,
  }),
  event('CommandAccepted', {
    idempotencyKey: 'k',
    requestHash: 'h',
    commandType: 'Purchase',
    response: {},
  }),
  event('LedgerSealed', {
    fromPosition: 1,
    throughPosition: 9,
    eventCount: 9,
    sealHash: 'a',
    previousSealHash: 'b',
  }),
]

t.test('each event type maps to exact, balanced postings', async (t) => {
  for (const c of cases) {
    const postings = postingsOf(c.event)
    t.same(postings, c.postings, c.name)
    t.ok(isBalanced(postings), `${c.name} balances`)
    t.notOk(
      postings.some((p) => p.amountCents === 0),
      `${c.name} has no zero line`,
    )
  }
})

t.test('events that move no money have no postings', async (t) => {
  for (const e of noMoney) t.same(postingsOf(e), [], e.type)
})

t.test('every event type of the contract is covered by these tests', async (t) => {
  const covered = new Set<string>([...cases.map((c) => c.event), ...noMoney].map((e) => e.type))
  for (const type of Object.keys(eventCodecs) as EventType[]) t.ok(covered.has(type), type)
})

t.test('the chart names each merchant under merchants:<id>', async (t) => {
  t.equal(payable('M1'), 'liabilities:merchants:M1:payable')
  t.equal(inFlight('M1'), 'liabilities:merchants:M1:payout-in-flight')
  t.equal(budget, 'equity:programmes:P1:budget-available')
})

t.test('a colon inside an id stays one account segment and parses back', async (t) => {
  t.equal(accountSegment('shop:7'), 'shop%3A7')
  t.same(parseAccount(accounts.merchantPayable('shop:7')), {
    kind: 'merchantPayable',
    merchantId: 'shop:7',
  })
  t.same(parseAccount(accounts.funderContributions('p:1', 'f:2')), {
    kind: 'funderContributions',
    programmeId: 'p:1',
    funderId: 'f:2',
  })
})

t.test('every account of the chart parses to its kind', async (t) => {
  const named: [string, string][] = [
    [accounts.processorClearing, 'processorClearing'],
    [accounts.budgetAvailable('P'), 'budgetAvailable'],
    [accounts.bonusOutstanding('P'), 'bonusOutstanding'],
    [accounts.merchantPayable('M'), 'merchantPayable'],
    [accounts.merchantPayoutInFlight('M'), 'merchantPayoutInFlight'],
    [accounts.purchasedIssued('P'), 'purchasedIssued'],
    [accounts.purchasedOutstanding('P'), 'purchasedOutstanding'],
    [accounts.purchasedRedeemed('P'), 'purchasedRedeemed'],
    [accounts.purchasedExpired('P'), 'purchasedExpired'],
    [accounts.purchasedRefunded('P'), 'purchasedRefunded'],
    [accounts.funderContributions('P', 'F'), 'funderContributions'],
  ]
  for (const [account, kind] of named) t.equal(parseAccount(account)?.kind, kind, account)
  for (const stray of ['assets:bank', 'liabilities:merchants:M:other', 'memo:programmes:P:x']) {
    t.equal(parseAccount(stray), undefined, stray)
  }
})
