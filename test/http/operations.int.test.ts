import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import { bearer, keys, merchantBody, programmeBody, startTestService } from '../support/service'

/**
 * The OpenAPI document checked by a real validator, the operational routes, the read roles and
 * the bounded wait of `?minPosition`.
 */
t.test('operations and reads', async (t) => {
  const service = await startTestService()
  t.teardown(() => service.stopAndClean())
  const inject = (method: 'GET' | 'POST', url: string, key?: string, payload?: unknown) =>
    service.app.inject({
      method,
      url,
      headers: key === undefined ? {} : bearer(key),
      ...(payload === undefined ? {} : { payload: payload as object }),
    })
  await inject('POST', '/v1/programmes', keys.operator, programmeBody())
  await inject('POST', '/v1/merchants', keys.operator, merchantBody('M'))
  const created = await inject('POST', '/v1/merchants', keys.operator, merchantBody('N'))
  const position = created.json().position as number

  t.test('the OpenAPI document is valid and lists every route of the contract', async (t) => {
    const page = await inject('GET', '/docs/')
    t.equal(page.statusCode, 200, '/docs serves the UI')
    const document = (await inject('GET', '/docs/json')).json()
    await t.resolves(
      SwaggerParser.validate(structuredClone(document)),
      'a valid OpenAPI 3 document',
    )
    const paths = Object.keys(document.paths)
    for (const path of [
      '/v1/programmes',
      '/v1/programmes/{programmeId}/budget-increases',
      '/v1/merchants',
      '/v1/purchases',
      '/v1/purchases/{purchaseId}/refunds',
      '/v1/vouchers/{voucherId}/redemptions',
      '/v1/programmes/{programmeId}/expiry-runs',
      '/v1/payout-runs',
      '/v1/processor/events',
      '/v1/merchants/{merchantId}/stock-movements',
      '/v1/merchants/{merchantId}/balance',
      '/v1/vouchers/{voucherId}',
      '/v1/programmes/{programmeId}/report',
      '/v1/ledger/events',
      '/v1/ledger/export',
      '/v1/ledger/verification',
    ]) {
      t.ok(paths.includes(path), `documents ${path}`)
    }
  })

  t.test('health and metrics', async (t) => {
    t.equal((await inject('GET', '/health/live')).statusCode, 200)
    const ready = await inject('GET', '/health/ready')
    t.equal(ready.statusCode, 200)
    t.type(ready.json().lagEvents, 'number')
    const metrics = await inject('GET', '/metrics')
    t.match(
      metrics.body,
      /ledger_commands_total\{command="RegisterMerchant",outcome="accepted"\} 2/,
    )
    t.match(metrics.body, /ledger_projection_lag_events/)
  })

  t.test('who may read what', async (t) => {
    const cases: [string, string, number][] = [
      [`/v1/merchants/M/balance?minPosition=${position}`, keys.merchantM, 200],
      ['/v1/merchants/N/balance', keys.merchantM, 403],
      ['/v1/merchants/M/balance', keys.dashboard, 200],
      ['/v1/programmes/P2026/report', keys.dashboard, 200],
      ['/v1/programmes/P2026/report', keys.merchantM, 403],
      ['/v1/ledger/events', keys.dashboard, 403],
      ['/v1/ledger/verification', keys.dashboard, 403],
      ['/v1/ledger/export?format=csv', keys.dashboard, 403],
      ['/v1/ledger/events?limit=2', keys.auditor, 200],
      ['/v1/ledger/verification', keys.auditor, 200],
      ['/v1/programmes/NOPE/report', keys.auditor, 404],
      ['/v1/ledger/events?limit=abc', keys.auditor, 400],
      ['/v1/ledger/export?format=xlsx', keys.auditor, 400],
    ]
    for (const [url, key, status] of cases) {
      t.equal((await inject('GET', url, key)).statusCode, status, `${url} as ${key}`)
    }
    const page = (await inject('GET', '/v1/ledger/events?limit=2', keys.auditor)).json()
    t.equal(page.events.length, 2)
    t.equal(page.next, page.events[1].position)
    t.match(page.events[0], { position: Number, hash: /^[0-9a-f]{64}$/, previousHash: /^0{64}$/ })
    const verification = (await inject('GET', '/v1/ledger/verification', keys.auditor)).json()
    t.match(verification, { ok: true, firstProblem: null })
  })

  t.test('a read waits for its position, then answers 503 projection_lagging', async (t) => {
    const report = await inject(
      'GET',
      `/v1/programmes/P2026/report?minPosition=${position}`,
      keys.auditor,
    )
    t.equal(report.statusCode, 200)
    t.ok(report.json().asOfPosition >= position)
    const future = await inject(
      'GET',
      `/v1/programmes/P2026/report?minPosition=${position + 10_000}`,
      keys.auditor,
    )
    t.equal(future.statusCode, 503)
    t.equal(future.json().code, 'projection_lagging')
    const csv = await inject('GET', '/v1/programmes/P2026/report.csv', keys.auditor)
    t.equal(csv.statusCode, 200)
    t.match(csv.headers['content-type'], /text\/csv/)
    t.match(csv.body, /budgetCents/)
  })
})
