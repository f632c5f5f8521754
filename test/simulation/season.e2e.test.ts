import t from 'tap'
import type { SimulatedClock } from '../../src/simulation/runner'
import { runSeason, type SeasonOutcome } from '../../src/simulation/season'
import { keys, processorSecret, startTestService, type TestService } from '../support/service'

/**
 * A small season against the service on a real port, through the HTTP API only: every answer
 * as the rules say, the report's identities, each merchant's balance equal to its postings in
 * the CSV export, the same report from a second run of the seed on a fresh service, and a
 * repeat of the season on the same service answered as repeats (what a second demo does).
 */
const options = { seed: 11, merchants: 5, customers: 25, purchases: 60 }

/** The real day after the season, as the brief of the simulator fixes it. */
const afterSeasonMs = Date.parse('2026-12-03T09:00:00Z')

/**
 * The test service's clock, following the season: the ledger dates a programme by its own
 * clock, so a past season is played with a clock that is where the season is.
 */
const followingClock = (service: TestService): SimulatedClock => {
  let moved = false
  return {
    advanceTo: (ms) => {
      service.clock.nowMs = moved ? Math.max(service.clock.nowMs, ms) : ms
      moved = true
    },
    nowMs: () => service.clock.nowMs,
  }
}

const playSeason = async (
  service: TestService,
  url: string,
  concurrency = 8,
): Promise<SeasonOutcome> => {
  const outcome = await runSeason({
    options,
    access: { url, operatorKey: keys.operator, processorKey: keys.processor, processorSecret },
    concurrency,
    clock: followingClock(service),
  })
  service.clock.nowMs = afterSeasonMs
  return outcome
}

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
