import t from 'tap'
import { runSeason, type SeasonOutcome } from '../../src/simulation/season'
import { keys, processorSecret, startTestService, type TestService } from '../support/service'

/**
 * A small season against the service on a real port, through the HTTP API only: every answer
 * as the rules say, the report's identities, each merchant's balance equal to its postings in
 * the CSV export, the same report from a second run of the seed on a fresh service, and a
 * repeat of the season on the same service answered as repeats (what a second demo does).
 */
const options = { seed: 11, merchants: 5, customers: 25, purchases: 60 }

/**
 * The service's clock stands on a day long after the 2025 season, expiry and final payout run
 * included, as the real one does: every write states when it happened, the service's clock
 * plays no part in the season.
 */
const afterSeasonMs = Date.parse('2026-12-03T12:00:00Z')

/** Processor signatures are dated by the service's clock, which is not the real one here. */
const playSeason = (service: TestService, url: string, concurrency = 8): Promise<SeasonOutcome> =>
  runSeason({
    options,
    access: { url, operatorKey: keys.operator, processorKey: keys.processor, processorSecret },
    concurrency,
    signingNowMs: () => service.clock.nowMs,
  })

const startOnPort = async () => {
  const service = await startTestService({ nowMs: afterSeasonMs })
  const url = await service.app.listen({ port: 0, host: '127.0.0.1' })
  return { service, url }
}

const auditorGet = async (url: string, path: string) => {
  const response = await fetch(`${url}${path}`, {
    headers: { authorization: `Bearer ${keys.auditor}` },
  })
  return { status: response.status, text: await response.text() }
}

/** Credit minus debit of every account in the postings CSV, in cents. */
const creditBalances = (csv: string): Map<string, number> => {
  const [header, ...rows] = csv.trim().split('\n')
  const columns = (header ?? '').split(',')
  const at = (name: string) => columns.indexOf(name)
  const balances = new Map<string, number>()
  for (const row of rows) {
    const cells = row.split(',')
    const account = cells[at('account')] ?? ''
    const net = Number(cells[at('creditCents')]) - Number(cells[at('debitCents')])
    balances.set(account, (balances.get(account) ?? 0) + net)
  }
  return balances
}

const withoutPosition = (report: unknown) => ({ ...(report as object), asOfPosition: undefined })

interface LedgerEvent {
  readonly position: number
  readonly streamId: string
  readonly type: string
  readonly occurredAt: string
}

/** The whole log, page by page. */
const ledgerEvents = async (url: string): Promise<LedgerEvent[]> => {
  const events: LedgerEvent[] = []
  for (let after = 0; ; ) {
    const page = await auditorGet(url, `/v1/ledger/events?after=${after}&limit=1000`)
    const { events: batch } = JSON.parse(page.text) as { events: LedgerEvent[] }
    if (batch.length === 0) return events
    events.push(...batch)
    after = batch[batch.length - 1]?.position ?? after
  }
}

/** Streams of the scheme's facts; idempotency records and seals are the ledger's own. */
const factCategories = ['programme', 'merchant', 'voucher', 'stock', 'payout', 'payouts']

t.test('a season on a real port', async (t) => {
  const { service, url } = await startOnPort()
  t.teardown(() => service.stopAndClean())
  const first = await playSeason(service, url)

  t.same(first.run.failures, [], 'every answer as the rules say')
  t.equal(first.reportProblem, null)
  t.same(first.identityProblems, [], 'the identities of API.md hold')
  t.same(first.figureProblems, [], "the report's figures are the rules' figures")
  t.ok(first.ok)
  t.ok(first.run.refusedAsPlanned > 10, 'the planned refusals were refused')

  t.test('the season is dated when it happened, not by the service clock', async (t) => {
    const events = await ledgerEvents(url)
    const facts = events.filter((e) => factCategories.includes(e.streamId.split('-')[0] ?? ''))
    const programme = first.plan.steps.find((step) => step.kind === 'createProgramme')
    const created = facts.find((e) => e.streamId === `programme-${first.plan.programmeId}`)
    t.equal(created?.occurredAt, programme?.body.occurredAt, 'the programme as stated')
    const latestMs = Math.max(...first.plan.steps.map((step) => step.atMs))
    const late = facts.filter((e) => Date.parse(e.occurredAt) > latestMs)
    t.same(late, [], 'no fact dated after the last step of the season')
    const lastByStream = new Map<string, number>()
    for (const event of facts) {
      const ms = Date.parse(event.occurredAt)
      const before = lastByStream.get(event.streamId) ?? ms
      // Payout notices follow the processor's clock, late and out of order by nature.
      if (ms < before && !event.streamId.startsWith('payout-')) {
        t.fail(`${event.streamId} goes back in time at ${event.position}`)
      }
      lastByStream.set(event.streamId, Math.max(ms, before))
    }
  })

  t.test("each merchant's balance is the sum of its postings", async (t) => {
    const exported = await auditorGet(url, '/v1/ledger/export?format=csv')
    t.equal(exported.status, 200)
    const balances = creditBalances(exported.text)
    for (const merchantId of first.plan.participatingMerchantIds) {
      const path = `/v1/merchants/${merchantId}/balance?minPosition=${first.run.lastPosition}`
      const answer = await auditorGet(url, path)
      if (answer.status === 404) {
        t.notOk(balances.has(`liabilities:merchants:${merchantId}:payable`), `${merchantId} idle`)
        continue
      }
      const balance = JSON.parse(answer.text) as Record<string, number>
      const account = (name: string) => balances.get(`liabilities:merchants:${merchantId}:${name}`)
      t.equal(balance.owedCents, account('payable') ?? 0, `${merchantId}: owed is its payable`)
      t.equal(balance.inFlightCents, account('payout-in-flight') ?? 0, `${merchantId}: in flight`)
      t.equal(
        balance.owedCents,
        (balance.purchaseCents ?? 0) -
          (balance.refundedCents ?? 0) +
          (balance.bonusRedeemedCents ?? 0) -
          (balance.paidOutCents ?? 0) -
          (balance.inFlightCents ?? 0),
        `${merchantId}: owed = purchases - refunded + bonus redeemed - paid out - in flight`,
      )
    }
  })

  t.test('the same season again on the same ledger is answered as repeats', async (t) => {
    const again = await playSeason(service, url)
    t.same(again.run.failures, [])
    t.ok(again.run.rerun, 'the programme was there')
    t.ok(again.ok)
    t.same(withoutPosition(again.report), withoutPosition(first.report), 'nothing changed')
  })

  t.test('a fresh service, another concurrency, the same seed: the same report', async (t) => {
    const fresh = await startOnPort()
    t.teardown(() => fresh.service.stopAndClean())
    const second = await playSeason(fresh.service, fresh.url, 3)
    t.ok(second.ok)
    t.same(withoutPosition(second.report), withoutPosition(first.report))
  })
})
