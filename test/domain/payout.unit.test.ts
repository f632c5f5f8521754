import { createHash } from 'node:crypto'
import t from 'tap'
import type { CommandContext } from '../../domain/decider'
import type { Cents } from '../../domain/money'
import {
  decideRecordPayoutNotice,
  decideRunPayouts,
  payoutIdFor,
  type RecordPayoutNotice,
} from '../../domain/payout'
import { streams } from '../../domain/streams'
import {
  at,
  cents,
  codeOf,
  context,
  decisionOf,
  event,
  futureContext,
  id,
  merchantM,
  merchantN,
  nowAt,
  TestLedger,
} from './decider-fixtures'

const owed = (entries: [string, number][]): ReadonlyMap<string, Cents> =>
  new Map(entries.map(([merchantId, n]) => [merchantId, cents(n)]))

const runPayouts = (
  ledger: TestLedger,
  owedByMerchant: ReadonlyMap<string, Cents>,
  runId = 'run-1',
  ctx = context(),
) =>
  decideRunPayouts({ runId: id(runId) }, ledger.payoutsLedger(), owedByMerchant, ctx)

t.test('a run pays every merchant owed more than zero, by merchant id', async (t) => {
  const ledger = new TestLedger()
  const decision = ledger.apply(
    runPayouts(
      ledger,
      owed([
        [merchantN, 7_000],
        ['cafe-z', 0],
        [merchantM, 12_550],
        ['bar-a', -300],
      ]),
    ),
  )
  const payoutM = payoutIdFor('run-1', merchantM)
  const payoutN = payoutIdFor('run-1', merchantN)
  t.equal(
    payoutM,
    `po-${createHash('sha256').update('run-1/boulangerie-m').digest('hex').slice(0, 24)}`,
  )
  t.strictSame(decision.response, {
    payouts: [
      { payoutId: payoutM, merchantId: merchantM, amountCents: 12_550 },
      { payoutId: payoutN, merchantId: merchantN, amountCents: 7_000 },
    ],
  })
  t.strictSame(decision.appends, [
    {
      streamId: `payout-${payoutM}`,
      events: [
        event('PayoutScheduled', {
          payoutId: payoutM,
          runId: id('run-1'),
          merchantId: merchantM,
          amountCents: cents(12_550),
        }),
      ],
    },
    {
      streamId: `payout-${payoutN}`,
      events: [
        event('PayoutScheduled', {
          payoutId: payoutN,
          runId: id('run-1'),
          merchantId: merchantN,
          amountCents: cents(7_000),
        }),
      ],
    },
    {
      streamId: 'payouts-ledger',
      events: [
        event('PayoutRunCompleted', {
          runId: id('run-1'),
          payoutIds: [payoutM, payoutN],
          totalCents: cents(19_550),
        }),
      ],
    },
  ])
  t.match(ledger.payout(payoutM), { scheduled: true, status: 'in_flight', amountCents: 12_550 })
  t.equal(ledger.payoutsLedger().runIds.has(id('run-1')), true)
})

t.test('a run with nobody owed is recorded with no payouts', async (t) => {
  const decision = decisionOf(runPayouts(new TestLedger(), owed([['m', 0]])))
  t.strictSame(decision.response, { payouts: [] })
  t.strictSame(decision.appends, [
    {
      streamId: 'payouts-ledger',
      events: [
        event('PayoutRunCompleted', { runId: id('run-1'), payoutIds: [], totalCents: cents(0) }),
      ],
    },
  ])
})

t.test('the payout ids of a run are the same when it is decided again', async (t) => {
  const once = decisionOf(runPayouts(new TestLedger(), owed([[merchantM, 1]])))
  const again = decisionOf(runPayouts(new TestLedger(), owed([[merchantM, 1]])))
  t.strictSame(once, again)
  t.not(payoutIdFor('run-1', merchantM), payoutIdFor('run-2', merchantM))
  t.match(payoutIdFor('run-1', merchantM), /^po-[0-9a-f]{24}$/)
})

t.test('RunPayouts refuses, one case per rejection code', async (t) => {
  const ran = new TestLedger()
  ran.apply(runPayouts(ran, owed([[merchantM, 100]])))
  const stated = context('2020-07-01T09:59:59.999Z', { recordedAt: '2020-07-02T00:00:00.000Z' })
  const cases: {
    name: string
    ledger: TestLedger
    runId: string
    ctx: CommandContext
    code: string
  }[] = [
    {
      name: 'a run id recorded already',
      ledger: ran,
      runId: 'run-1',
      ctx: context(),
      code: 'already_exists',
    },
    {
      name: 'a future time',
      ledger: new TestLedger(),
      runId: 'run-2',
      ctx: futureContext(),
      code: 'invalid_time',
    },
    {
      name: 'a stated time before the last run',
      ledger: ran,
      runId: 'run-2',
      ctx: stated,
      code: 'invalid_time',
    },
  ]
  for (const c of cases) {
    t.equal(codeOf(runPayouts(c.ledger, owed([[merchantM, 1]]), c.runId, c.ctx)), c.code, c.name)
  }
})

/** A payout of 125.50 to M, scheduled on 1 July at 10:00. */
const scheduled = (): { ledger: TestLedger; payoutId: string } => {
  const ledger = new TestLedger()
  ledger.apply(runPayouts(ledger, owed([[merchantM, 12_550]])))
  return { ledger, payoutId: payoutIdFor('run-1', merchantM) }
}

const notice = (
  processorEventId: string,
  outcome: 'paid' | 'failed',
  noticeOccurredAt: string,
): RecordPayoutNotice => ({
  processorEventId: id(processorEventId),
  payoutId: payoutIdFor('run-1', merchantM),
  outcome,
  reason: outcome === 'failed' ? 'IBAN closed' : null,
  noticeOccurredAt: at(noticeOccurredAt),
})

/** Records a notice as the processor sends it: stated at its own time, received a day later. */
const deliver = (ledger: TestLedger, command: RecordPayoutNotice) => {
  const ctx = context(command.noticeOccurredAt, { recordedAt: '2020-07-05T00:00:00.000Z' })
  const result = decideRecordPayoutNotice(command, ledger.payout(command.payoutId), ctx)
  return ledger.apply(result, command.noticeOccurredAt)
}

const statusChanges = (ledger: TestLedger, payoutId: string) =>
  ledger
    .events(streams.payout(payoutId))
    .filter((e) => e.type === 'PayoutNoticeRecorded')
    .flatMap((e) => (e.type === 'PayoutNoticeRecorded' ? [e.data] : []))
    .map((data) => [data.statusBefore, data.statusAfter])

t.test('a paid notice records the payout paid', async (t) => {
  const { ledger, payoutId } = scheduled()
  const decision = deliver(ledger, notice('evt-1', 'paid', '2020-07-02T08:00:00.000Z'))
  t.strictSame(decision.response, { status: 'recorded' })
  t.strictSame(decision.appends, [
    {
      streamId: `payout-${payoutId}`,
      events: [
        event('PayoutNoticeRecorded', {
          payoutId: id(payoutId),
          merchantId: merchantM,
          amountCents: cents(12_550),
          processorEventId: id('evt-1'),
          outcome: 'paid',
          reason: null,
          noticeOccurredAt: at('2020-07-02T08:00:00.000Z'),
          statusBefore: 'in_flight',
          statusAfter: 'paid',
        }),
      ],
    },
  ])
  t.match(ledger.payout(payoutId), { status: 'paid' })
})

t.test('paid then failed ends failed, whichever notice arrives first', async (t) => {
  const paid = notice('evt-paid', 'paid', '2020-07-02T08:00:00.000Z')
  const failed = notice('evt-failed', 'failed', '2020-07-03T08:00:00.000Z')

  const inOrder = scheduled()
  deliver(inOrder.ledger, paid)
  deliver(inOrder.ledger, failed)
  t.match(inOrder.ledger.payout(inOrder.payoutId), { status: 'failed' })
  t.strictSame(statusChanges(inOrder.ledger, inOrder.payoutId), [
    ['in_flight', 'paid'],
    ['paid', 'failed'],
  ])

  const reversed = scheduled()
  deliver(reversed.ledger, failed)
  const late = deliver(reversed.ledger, paid)
  t.strictSame(late.response, { status: 'recorded' }, 'the older notice is still recorded')
  t.match(reversed.ledger.payout(reversed.payoutId), { status: 'failed' })
  t.strictSame(statusChanges(reversed.ledger, reversed.payoutId), [
    ['in_flight', 'failed'],
    ['failed', 'failed'],
  ])
})

t.test('a failure then a later payment ends paid: the processor retried', async (t) => {
  const { ledger, payoutId } = scheduled()
  deliver(ledger, notice('evt-1', 'failed', '2020-07-02T08:00:00.000Z'))
  deliver(ledger, notice('evt-2', 'paid', '2020-07-03T08:00:00.000Z'))
  t.match(ledger.payout(payoutId), { status: 'paid' })
})

t.test('paid and failed at one instant end failed in either order', async (t) => {
  const instant = '2020-07-02T08:00:00.000Z'
  for (const order of [['paid', 'failed'], ['failed', 'paid']] as const) {
    const { ledger, payoutId } = scheduled()
    for (const outcome of order) deliver(ledger, notice(`evt-${outcome}`, outcome, instant))
    t.match(ledger.payout(payoutId), { status: 'failed' }, order.join(' then '))
  }
})

t.test('a processor event seen already is a duplicate that appends nothing', async (t) => {
  const { ledger, payoutId } = scheduled()
  const paid = notice('evt-1', 'paid', '2020-07-02T08:00:00.000Z')
  deliver(ledger, paid)
  const ctx = context(nowAt, { recordedAt: '2020-07-05T00:00:00.000Z' })
  const again = decisionOf(decideRecordPayoutNotice(paid, ledger.payout(payoutId), ctx))
  t.strictSame(again, { appends: [], response: { status: 'duplicate' } })

  const sameIdOtherBody = notice('evt-1', 'failed', '2020-07-04T08:00:00.000Z')
  const other = decisionOf(decideRecordPayoutNotice(sameIdOtherBody, ledger.payout(payoutId), ctx))
  t.strictSame(other.response, { status: 'duplicate' }, 'the processor event id decides')
})

t.test('RecordPayoutNotice refuses, one case per rejection code', async (t) => {
  const { ledger, payoutId } = scheduled()
  const unknown = { ...notice('evt-1', 'paid', nowAt), payoutId: id('po-unknown') }
  t.equal(
    codeOf(decideRecordPayoutNotice(unknown, ledger.payout('po-unknown'), context())),
    'not_found',
  )
  t.equal(
    codeOf(
      decideRecordPayoutNotice(
        notice('evt-1', 'paid', nowAt),
        ledger.payout(payoutId),
        futureContext(),
      ),
    ),
    'invalid_time',
    'a stated occurredAt in the future',
  )
  const futureNotice = notice('evt-1', 'paid', '2020-07-01T10:00:00.001Z')
  t.equal(
    codeOf(decideRecordPayoutNotice(futureNotice, ledger.payout(payoutId), context())),
    'invalid_time',
    'a notice dated in the future',
  )
  const beforeScheduled = notice('evt-1', 'paid', '2020-06-30T00:00:00.000Z')
  const ctx = context(beforeScheduled.noticeOccurredAt, { recordedAt: nowAt })
  t.ok(
    decisionOf(decideRecordPayoutNotice(beforeScheduled, ledger.payout(payoutId), ctx)),
    'a notice older than the stream is accepted: processors deliver out of order',
  )
})

t.test('evolve asserts what a sound log never holds', async (t) => {
  const { ledger, payoutId } = scheduled()
  const scheduledEvents = ledger.events(streams.payout(payoutId))
  t.throws(() => ledger.record(streams.payout(payoutId), scheduledEvents).payout(payoutId))
  const fresh = scheduled()
  const unrelated = event('MerchantSuspended', { merchantId: merchantM, reason: 'r' })
  const payout = fresh.ledger.payout(fresh.payoutId)
  fresh.ledger.record(streams.payout(fresh.payoutId), [unrelated])
  t.strictSame(fresh.ledger.payout(fresh.payoutId), payout, 'events of other streams are ignored')
  const ran = scheduled().ledger
  const run = ran.events(streams.payoutsLedger())
  t.throws(() => ran.record(streams.payoutsLedger(), run).payoutsLedger())
  t.throws(() => {
    const stale = scheduled()
    deliver(stale.ledger, notice('evt-1', 'paid', nowAt))
    const recorded = stale.ledger.events(streams.payout(stale.payoutId)).slice(1)
    return stale.ledger.record(streams.payout(stale.payoutId), recorded).payout(stale.payoutId)
  })
})
