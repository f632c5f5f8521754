import t from 'tap'
import {
  bearer,
  keys,
  merchantBody,
  processorHeaders,
  programmeBody,
  startTestService,
  type TestService,
} from '../support/service'

/**
 * The write routes through `inject`: bad input is refused with a 4xx and writes nothing,
 * roles and signatures are enforced, and repeats answer the first answer.
 */
const post = (service: TestService, url: string, body: unknown, key: string = keys.operator) =>
  service.app.inject({
    method: 'POST',
    url,
    headers: { ...bearer(key), 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  })

const purchase = (overrides: Record<string, unknown> = {}) => ({
  purchaseId: 'p-1',
  programmeId: 'P2026',
  merchantId: 'M',
  customerId: 'c-1',
  amountCents: 10_000,
  paymentReference: 'psp-1',
  ...overrides,
})

t.test('write routes', async (t) => {
  const service = await startTestService()
  t.teardown(() => service.stopAndClean())
  t.equal((await post(service, '/v1/programmes', programmeBody())).statusCode, 201)
  t.equal((await post(service, '/v1/merchants', merchantBody('M'))).statusCode, 201)
  t.equal((await post(service, '/v1/merchants', merchantBody('N'))).statusCode, 201)

  t.test('bad input gets a 4xx that names the field and writes nothing', async (t) => {
    const valid = JSON.stringify(purchase())
    const cases: [string, string, number, string, string | undefined][] = [
      ['malformed JSON', '{"purchaseId": ', 400, 'invalid_request', undefined],
      [
        'amount as a string',
        JSON.stringify(purchase({ amountCents: '100' })),
        400,
        'invalid_request',
        'amountCents',
      ],
      [
        'amount with a fraction',
        JSON.stringify(purchase({ amountCents: 10.5 })),
        400,
        'invalid_request',
        'amountCents',
      ],
      [
        'amount null',
        JSON.stringify(purchase({ amountCents: null })),
        400,
        'invalid_request',
        'amountCents',
      ],
      [
        'amount negative',
        JSON.stringify(purchase({ amountCents: -1 })),
        400,
        'invalid_request',
        'amountCents',
      ],
      [
        'amount zero',
        JSON.stringify(purchase({ amountCents: 0 })),
        400,
        'invalid_request',
        'amountCents',
      ],
      [
        'amount beyond 2^53',
        valid.replace('10000', '9007199254740993'),
        400,
        'invalid_request',
        'amountCents',
      ],
      ['amount 1e400', valid.replace('10000', '1e400'), 400, 'invalid_request', 'amountCents'],
      [
        'unknown field',
        JSON.stringify(purchase({ colour: 'red' })),
        400,
        'invalid_request',
        'colour',
      ],
      [
        'id outside the pattern',
        JSON.stringify(purchase({ purchaseId: 'a b' })),
        400,
        'invalid_request',
        'purchaseId',
      ],
      [
        'id too long',
        JSON.stringify(purchase({ purchaseId: 'x'.repeat(65) })),
        400,
        'invalid_request',
        'purchaseId',
      ],
      [
        'text too long',
        JSON.stringify(purchase({ paymentReference: 'r'.repeat(201) })),
        400,
        'invalid_request',
        'paymentReference',
      ],
      [
        'missing field',
        JSON.stringify({ ...purchase(), customerId: undefined }),
        400,
        'invalid_request',
        'customerId',
      ],
      ['an array body', '[]', 400, 'invalid_request', '(body)'],
      [
        'over-large body',
        JSON.stringify(purchase({ paymentReference: 'r'.repeat(70_000) })),
        413,
        'payload_too_large',
        undefined,
      ],
      [
        'occurredAt in the future',
        JSON.stringify(purchase({ occurredAt: '2027-01-01T00:00:00Z' })),
        422,
        'invalid_time',
        undefined,
      ],
      [
        'amount above the largest single amount',
        JSON.stringify(purchase({ amountCents: 10_000_000_001 })),
        400,
        'invalid_request',
        'amountCents',
      ],
      [
        'impossible date in occurredAt',
        JSON.stringify(purchase({ occurredAt: '2026-02-30T00:00:00Z' })),
        400,
        'invalid_request',
        'occurredAt',
      ],
      [
        'NUL in text',
        JSON.stringify(purchase({ paymentReference: 'a\u0000b' })),
        400,
        'invalid_request',
        'paymentReference',
      ],
      [
        'occurredAt not UTC',
        JSON.stringify(purchase({ occurredAt: '2026-11-15T10:00:00+01:00' })),
        400,
        'invalid_request',
        'occurredAt',
      ],
    ]
    const before = await service.store.headPosition()
    for (const [name, payload, status, code, field] of cases) {
      const response = await post(service, '/v1/purchases', payload)
      t.equal(response.statusCode, status, `${name}: status`)
      t.match(response.headers['content-type'], /application\/problem\+json/, `${name}: type`)
      const problem = response.json()
      t.equal(problem.code, code, `${name}: code`)
      if (field !== undefined) {
        t.ok(
          problem.errors?.some((error: { field: string }) => error.field === field),
          `${name}: names ${field}`,
        )
      }
    }
    t.equal(await service.store.headPosition(), before, 'the ledger did not move')
  })

  t.test('roles and credentials', async (t) => {
    const before = await service.store.headPosition()
    const anonymous = await service.app.inject({
      method: 'POST',
      url: '/v1/purchases',
      payload: purchase(),
    })
    t.equal(anonymous.statusCode, 401)
    t.equal(anonymous.json().code, 'unauthenticated')
    const dashboard = await post(service, '/v1/purchases', purchase(), keys.dashboard)
    t.equal(dashboard.statusCode, 403)
    t.equal(dashboard.json().code, 'forbidden')
    const otherMerchant = await post(
      service,
      '/v1/merchants/N/stock-movements',
      { movementId: 'mv-1', sku: 'sku-1', kind: 'received', quantity: 5 },
      keys.merchantM,
    )
    t.equal(otherMerchant.statusCode, 403)
    t.equal(await service.store.headPosition(), before, 'nothing written')
  })

  t.test(
    'a repeat answers the first answer; another body under the same id is a conflict',
    async (t) => {
      const first = await post(service, '/v1/purchases', purchase({ purchaseId: 'idem-1' }))
      t.equal(first.statusCode, 201)
      const again = await post(service, '/v1/purchases', purchase({ purchaseId: 'idem-1' }))
      t.equal(again.statusCode, 200)
      t.same(again.json(), first.json())
      const position = await service.store.headPosition()
      const other = await post(
        service,
        '/v1/purchases',
        purchase({ purchaseId: 'idem-1', amountCents: 5_000 }),
      )
      t.equal(other.statusCode, 409)
      t.equal(other.json().code, 'idempotency_conflict')
      t.equal(await service.store.headPosition(), position, 'the conflict wrote nothing')
    },
  )

  t.test('an ineligible merchant is told every failed criterion', async (t) => {
    const response = await post(
      service,
      '/v1/merchants',
      merchantBody('BIG', {
        employees: 41,
        salesAreaM2: 500,
        annualTurnoverCents: 150_000_000,
        communeCode: '75056',
      }),
    )
    t.equal(response.statusCode, 422)
    t.equal(response.json().code, 'merchant_not_eligible')
    const fields = response
      .json()
      .errors.map((error: { field: string }) => error.field)
      .sort()
    t.same(fields, ['annualTurnoverCents', 'communeCode', 'employees', 'salesAreaM2'])
  })

  t.test('processor signatures: wrong, stale or reused are refused', async (t) => {
    const nowS = Math.floor(service.clock.nowMs / 1000)
    const body = JSON.stringify({
      eventId: 'evt-sig-1',
      type: 'payout.paid',
      occurredAt: '2026-11-15T09:00:00Z',
      data: { payoutId: 'po-unknown' },
    })
    const send = (headers: Record<string, string>) =>
      service.app.inject({ method: 'POST', url: '/v1/processor/events', headers, payload: body })
    const wrong = {
      ...processorHeaders(body, nowS),
      'ledger-signature': `t=${nowS},v1=${'0'.repeat(64)}`,
    }
    t.equal((await send(wrong)).statusCode, 401)
    t.equal(
      (await send(processorHeaders(body, nowS - 301))).statusCode,
      401,
      'older than 5 minutes',
    )
    const fresh = processorHeaders(body, nowS)
    const first = await send(fresh)
    t.equal(first.statusCode, 404, 'a valid signature reaches the ledger: unknown payout')
    const reused = await send(fresh)
    t.equal(reused.statusCode, 401)
    t.match(reused.json().detail, /already used/)
    const operatorSigned = { ...processorHeaders(body, nowS - 2), ...bearer(keys.operator) }
    t.equal((await send(operatorSigned)).statusCode, 403, 'only the processor role')
  })

  t.test(
    'the operator can record a past season: every operator write takes occurredAt',
    async (t) => {
      const past = { occurredAt: '2025-10-01T08:00:00Z' }
      const programme = programmeBody({
        programmeId: 'P2025',
        validFrom: '2025-11-01',
        validUntil: '2025-12-31',
        ...past,
      })
      t.equal((await post(service, '/v1/programmes', programme)).statusCode, 201)
      t.equal((await post(service, '/v1/merchants', merchantBody('OLD', past))).statusCode, 201)
      const bought = await post(
        service,
        '/v1/purchases',
        purchase({
          purchaseId: 'p-2025',
          programmeId: 'P2025',
          merchantId: 'OLD',
          occurredAt: '2025-11-02T10:00:00Z',
        }),
      )
      t.equal(bought.statusCode, 201)
      const early = await post(
        service,
        '/v1/purchases',
        purchase({
          purchaseId: 'p-2025-early',
          programmeId: 'P2025',
          merchantId: 'OLD',
          occurredAt: '2025-11-01T10:00:00Z',
        }),
      )
      t.equal(early.statusCode, 422, 'not before the last event of the programme stream')
      t.equal(early.json().code, 'invalid_time')
      const suspended = await post(service, '/v1/merchants/OLD/suspensions', {
        reason: 'inspection',
        occurredAt: '2025-12-01T08:00:00Z',
      })
      t.equal(suspended.statusCode, 201)
      const stock = await post(
        service,
        '/v1/merchants/M/stock-movements',
        { movementId: 'mv-past', sku: 'sku-1', kind: 'received', quantity: 1, ...past },
        keys.merchantM,
      )
      t.equal(stock.statusCode, 403, 'a merchant may not state occurredAt')
    },
  )

  t.test(
    'budgets that would not add up exactly are refused, not a 500 (found by the breaker)',
    async (t) => {
      const before = await service.store.headPosition()
      const huge = programmeBody({
        programmeId: 'HUGE',
        funders: Array.from({ length: 101 }, (_, index) => ({
          funderId: `f${index}`,
          name: `Funder ${index}`,
          contributionCents: 10_000_000_000,
        })),
      })
      const tooMany = await post(service, '/v1/programmes', huge)
      t.equal(tooMany.statusCode, 400, 'more funders than allowed')
      const overBudget = programmeBody({
        programmeId: 'HUGE',
        funders: Array.from({ length: 100 }, (_, index) => ({
          funderId: `f${index}`,
          name: `Funder ${index}`,
          contributionCents: 10_000_000_000,
        })),
      })
      t.equal(
        (await post(service, '/v1/programmes', overBudget)).statusCode,
        201,
        'exactly the limit',
      )
      const increase = await post(service, '/v1/programmes/HUGE/budget-increases', {
        increaseId: 'inc-1',
        funderId: 'f0',
        amountCents: 1,
      })
      t.equal(increase.statusCode, 422)
      t.equal(increase.json().code, 'amount_out_of_range')
      t.equal(await service.store.headPosition(), before + 2, 'only the programme was written')
    },
  )

  t.test('an unusable URL gets a problem too (found by the breaker)', async (t) => {
    for (const url of [
      `/v1/vouchers/${'x'.repeat(5_000)}/redemptions`,
      '/v1/merchants/%ZZ/balance',
    ]) {
      const response = await service.app.inject({
        method: 'GET',
        url,
        headers: bearer(keys.auditor),
      })
      t.ok(response.statusCode >= 400 && response.statusCode < 500, `${url.slice(0, 30)}: 4xx`)
      t.match(response.headers['content-type'], /application\/problem\+json/)
    }
  })

  t.test('unauthenticated callers are rate limited', async (t) => {
    const statuses: number[] = []
    for (let index = 0; index < 40; index += 1) {
      const response = await service.app.inject({ method: 'GET', url: '/v1/vouchers/x' })
      statuses.push(response.statusCode)
    }
    t.ok(statuses.includes(429), 'some were limited')
    t.ok(statuses.includes(401), 'the first were answered')
  })
})
