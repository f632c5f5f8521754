import t from 'tap'
import {
  bearer,
  keys,
  merchantBody,
  processorHeaders,
  programmeBody,
  startTestService,
} from '../support/service'

/**
 * The service on a real port, driven by a real HTTP client: the refund example of DOMAIN.md,
 * the two concurrency cases of the core issue, a signed processor delivery sent three times,
 * and every balance, voucher and report figure read back exact.
 */
t.test('end to end on a real port', async (t) => {
  const service = await startTestService()
  t.teardown(() => service.stopAndClean())
  const address = await service.app.listen({ port: 0, host: '127.0.0.1' })

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    key: string = keys.operator,
  ) => {
    const response = await fetch(`${address}${path}`, {
      method,
      headers: {
        ...bearer(key),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text }
  }
  const read = (path: string, position: number, key: string = keys.auditor) =>
    call('GET', `${path}?minPosition=${position}`, undefined, key)

  t.equal((await call('POST', '/v1/programmes', programmeBody())).status, 201)
  for (const id of ['M', 'N'])
    t.equal((await call('POST', '/v1/merchants', merchantBody(id))).status, 201)

  t.test('the refund example of DOMAIN.md', async (t) => {
    const bought = await call('POST', '/v1/purchases', {
      purchaseId: 'refund-example',
      programmeId: 'P2026',
      merchantId: 'M',
      customerId: 'alice',
      amountCents: 10_000,
      paymentReference: 'psp-refund-example',
    })
    t.equal(bought.status, 201)
    t.match(bought.body, { amountCents: 10_000, bonusCents: 2_500, bonusReduced: false })
    const { voucherId, bonusVoucherId } = bought.body
    const spentBonus = await call('POST', `/v1/vouchers/${bonusVoucherId}/redemptions`, {
      redemptionId: 'ex-r1',
      merchantId: 'N',
      amountCents: 2_000,
    })
    t.match(spentBonus, { status: 201, body: { remainingCents: 500 } })
    const spentVoucher = await call(
      'POST',
      `/v1/vouchers/${voucherId}/redemptions`,
      { redemptionId: 'ex-r2', merchantId: 'M', amountCents: 4_000 },
      keys.merchantM,
    )
    t.match(spentVoucher, { status: 201, body: { remainingCents: 6_000 } })
    const refund = await call('POST', '/v1/purchases/refund-example/refunds', {
      refundId: 'ex-refund',
    })
    t.equal(refund.status, 201)
    t.match(refund.body, { refundedCents: 5_000, bonusReducedCents: 500, deductedCents: 1_000 })

    const position = refund.body.position
    t.match((await read('/v1/merchants/M/balance', position)).body, {
      purchaseCents: 10_000,
      refundedCents: 6_000,
      bonusRedeemedCents: 0,
      paidOutCents: 0,
      inFlightCents: 0,
      owedCents: 4_000,
    })
    t.match((await read('/v1/merchants/N/balance', position)).body, {
      bonusRedeemedCents: 2_000,
      owedCents: 2_000,
    })
    t.match((await read(`/v1/vouchers/${voucherId}`, position)).body, {
      kind: 'purchased',
      valueCents: 10_000,
      redeemedCents: 4_000,
      remainingCents: 0,
      status: 'refunded',
    })
    t.match((await read(`/v1/vouchers/${bonusVoucherId}`, position)).body, {
      kind: 'bonus',
      merchantId: 'M',
      remainingCents: 0,
    })
    const report = (await read('/v1/programmes/P2026/report', position)).body
    t.match(report, {
      budgetCents: 1_500_000,
      bonusGrantedCents: 2_500,
      bonusRedeemedCents: 2_000,
      bonusReducedCents: 500,
      bonusRecoveredCents: 1_000,
      bonusOutstandingCents: 0,
      budgetAvailableCents: 1_500_000 - 2_500 + 500 + 1_000,
      purchaseCount: 1,
      purchaseCents: 10_000,
      refundedCents: 6_000,
      purchasedRedeemedCents: 4_000,
    })
  })

  t.test('20 concurrent redemptions of 1.00 on a 10.00 voucher: exactly 10 succeed', async (t) => {
    const bought = await call('POST', '/v1/purchases', {
      purchaseId: 'race-voucher',
      programmeId: 'P2026',
      merchantId: 'M',
      customerId: 'bob',
      amountCents: 1_000,
      paymentReference: 'psp-race',
    })
    const attempts = Array.from({ length: 20 }, (_, index) =>
      call('POST', `/v1/vouchers/${bought.body.voucherId}/redemptions`, {
        redemptionId: `race-${index}`,
        merchantId: 'M',
        amountCents: 100,
      }),
    )
    const results = await Promise.all(attempts)
    t.equal(results.filter((r) => r.status === 201).length, 10)
    const refused = results.filter((r) => r.status === 422)
    t.equal(refused.length, 10)
    t.ok(refused.every((r) => r.body.code === 'insufficient_balance'))
    const last = Math.max(...results.map((r) => r.body.position ?? 0))
    t.match((await read(`/v1/vouchers/${bought.body.voucherId}`, last)).body, {
      redeemedCents: 1_000,
      remainingCents: 0,
      status: 'spent',
    })
  })

  t.test('100 concurrent purchases against a budget for 40 bonuses never overspend', async (t) => {
    const programme = programmeBody({
      programmeId: 'TIGHT',
      funders: [
        { funderId: 'ccsms', name: 'CC Sarrebourg Moselle Sud', contributionCents: 100_000 },
      ],
    })
    t.equal((await call('POST', '/v1/programmes', programme)).status, 201)
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        call('POST', '/v1/purchases', {
          purchaseId: `tight-${index}`,
          programmeId: 'TIGHT',
          merchantId: 'M',
          customerId: `customer-${index}`,
          amountCents: 10_000,
          paymentReference: `psp-tight-${index}`,
        }),
      ),
    )
    t.ok(
      results.every((r) => r.status === 201),
      'every purchase is recorded',
    )
    const bonusCents = results.reduce((sum, r) => sum + r.body.bonusCents, 0)
    t.equal(bonusCents, 100_000, 'the whole budget and not a cent more')
    t.equal(results.filter((r) => r.body.bonusCents === 2_500).length, 40)
    t.ok(results.filter((r) => r.body.bonusCents === 0).every((r) => r.body.bonusReduced === true))
    const last = Math.max(...results.map((r) => r.body.position))
    t.match((await read('/v1/programmes/TIGHT/report', last)).body, {
      bonusGrantedCents: 100_000,
      budgetAvailableCents: 0,
      purchaseCount: 100,
    })
  })

  t.test('a signed processor delivery sent three times is recorded once', async (t) => {
    const run = await call('POST', '/v1/payout-runs', { runId: 'run-1' })
    t.equal(run.status, 201)
    const payout = run.body.payouts.find((p: { merchantId: string }) => p.merchantId === 'N')
    t.equal(payout.amountCents, 2_000, 'N is owed the bonus it took')
    const body = JSON.stringify({
      eventId: 'evt-paid-1',
      type: 'payout.paid',
      occurredAt: '2026-11-15T09:59:00Z',
      data: { payoutId: payout.payoutId },
    })
    const nowS = Math.floor(service.clock.nowMs / 1000)
    const statuses: string[] = []
    let position = 0
    for (const offsetS of [0, 1, 2]) {
      const response = await fetch(`${address}/v1/processor/events`, {
        method: 'POST',
        headers: processorHeaders(body, nowS - offsetS),
        body,
      })
      t.equal(response.status, 200)
      const answer = (await response.json()) as { status: string; position: number }
      statuses.push(answer.status)
      position = answer.position
    }
    t.same(statuses, ['recorded', 'duplicate', 'duplicate'])
    t.match((await read('/v1/merchants/N/balance', position)).body, {
      bonusRedeemedCents: 2_000,
      paidOutCents: 2_000,
      inFlightCents: 0,
      owedCents: 0,
    })
  })
})
