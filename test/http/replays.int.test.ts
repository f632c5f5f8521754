import t from 'tap'
import { bearer, keys, merchantBody, programmeBody, startTestService } from '../support/service'
import type { TestService } from '../support/service'

/**
 * Repeats of commands whose answers are no longer in the command handler's cache: a service
 * started again on the same store knows them only from the log. The handler then learns of the
 * recorded key from the store refusing its append (it does not read every key first), and must
 * still answer the first answer, even where deciding again would now refuse the command.
 */
const post = (service: TestService, url: string, body: unknown) =>
  service.app.inject({
    method: 'POST',
    url,
    headers: { ...bearer(keys.operator), 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  })

const purchase = (overrides: Record<string, unknown> = {}) => ({
  purchaseId: 'p-replayed',
  programmeId: 'P2026',
  merchantId: 'M',
  customerId: 'c-1',
  amountCents: 10_000,
  paymentReference: 'psp-replayed',
  ...overrides,
})

const retriedConflicts = async (service: TestService): Promise<number> => {
  const metrics = await service.app.inject({ method: 'GET', url: '/metrics' })
  const line = metrics.body
    .split('\n')
    .find((l) => l.startsWith('ledger_concurrency_conflicts_total{kind="retried"}'))
  return Number(line?.split(' ')[1])
}

t.test('repeats after a restart answer the recorded answer', async (t) => {
  const first = await startTestService()
  t.equal((await post(first, '/v1/programmes', programmeBody())).statusCode, 201)
  t.equal((await post(first, '/v1/merchants', merchantBody('M'))).statusCode, 201)
  t.equal((await post(first, '/v1/merchants', merchantBody('N'))).statusCode, 201)
  const atM = await post(first, '/v1/purchases', purchase())
  t.equal(atM.statusCode, 201)
  const atN = await post(first, '/v1/purchases', purchase({ purchaseId: 'p-n', merchantId: 'N' }))
  t.equal(atN.statusCode, 201)
  await first.close()

  const service = await startTestService({ dir: first.dir })
  t.teardown(() => service.stopAndClean())

  const reason = { reason: 'inspection' }
  t.equal((await post(service, '/v1/merchants/M/suspensions', reason)).statusCode, 201)
  const whileSuspended = await post(service, '/v1/purchases', purchase())
  t.equal(whileSuspended.statusCode, 200, 'the first answer, not merchant_suspended')
  t.same(whileSuspended.json(), atM.json())
  const fresh = await post(service, '/v1/purchases', purchase({ purchaseId: 'p-new' }))
  t.equal(fresh.statusCode, 422, 'a new purchase at the suspended merchant is refused')
  t.equal(fresh.json().code, 'merchant_suspended')

  const position = await service.store.headPosition()
  const repeat = await post(
    service,
    '/v1/purchases',
    purchase({ purchaseId: 'p-n', merchantId: 'N' }),
  )
  t.equal(repeat.statusCode, 200, 'a plain repeat')
  t.equal(repeat.body, atN.body, 'the first answer byte for byte')
  t.equal(await retriedConflicts(service), 0, 'finding a recorded key is not contention')

  const other = await post(service, '/v1/purchases', purchase({ amountCents: 5_000 }))
  t.equal(other.statusCode, 409, 'another body under a recorded id')
  t.equal(other.json().code, 'idempotency_conflict')
  t.equal(await service.store.headPosition(), position, 'the repeats wrote nothing')
})
