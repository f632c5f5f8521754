import { isoOf } from './calendar'
import type { Answer, LedgerClient } from './client'
import type {
  ExpectedRefusal,
  ExpiryRunStep,
  MoveStockStep,
  PayoutRunStep,
  PurchaseStep,
  RedeemStep,
  RefundStep,
  RegisterMerchantStep,
  SettleStep,
  Step,
} from './plan'

/**
 * One step sent, and its answer held to what the plan expects: accepted (201, or 200 for a
 * repeat) with the figures the simulator's model predicts, or refused with the planned code.
 * A difference is a failure, with the request and the answer, never silently skipped.
 */
export interface StepContext {
  readonly client: LedgerClient
  readonly voucherIds: Map<string, { voucherId: string; bonusVoucherId: string | null }>
  /** Payout ids by run and merchant (`<runId>/<merchantId>`), from the runs' answers. */
  readonly payoutIds: Map<string, string>
  rerun: boolean
  refusedAsPlanned: number
  noteAnswer(answer: Answer): void
  fail(step: Step, request: string, problem: string, answer?: Answer): void
  refusedAs(expected: ExpectedRefusal, answer: Answer): boolean
}

export const checkStepAnswer = async (context: StepContext, step: Step): Promise<void> => {
  switch (step.kind) {
    case 'createProgramme': {
      const answer = await post(context, step, '/v1/programmes', step.body)
      if (answer.status === 200) context.rerun = true
      const budgetCents = step.body.funders.reduce((sum, f) => sum + f.contributionCents, 0)
      expectAccepted(context, step, 'POST /v1/programmes', answer, { budgetCents })
      return
    }
    case 'registerMerchant':
      return registerMerchant(context, step)
    case 'purchase':
      return purchase(context, step)
    case 'redeem':
      return redeem(context, step)
    case 'refund':
      return refund(context, step)
    case 'moveStock':
      return moveStock(context, step)
    case 'suspend': {
      const path = `/v1/merchants/${step.merchantId}/suspensions`
      const body = { reason: step.reason, occurredAt: isoOf(step.atMs) }
      // Suspensions carry no id of their own: the header makes a re-run a repeat, not a second.
      const answer = await post(context, step, path, body, {
        'idempotency-key': `suspension-${step.merchantId}`,
      })
      expectAccepted(context, step, `POST ${path}`, answer, { suspended: true })
      return
    }
    case 'payoutRun':
      return payoutRun(context, step)
    case 'settle':
      return settle(context, step)
    case 'expiryRun':
      return expiryRun(context, step)
  }
}

const post = async (
  context: StepContext,
  _step: Step,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> => {
  const answer = await context.client.operator('POST', path, body, headers)
  context.noteAnswer(answer)
  return answer
}

/** An accepted write whose answer holds every expected field; false after a failure. */
const expectAccepted = (
  context: StepContext,
  step: Step,
  request: string,
  answer: Answer,
  fields: Record<string, unknown>,
): boolean => {
  if (answer.status !== 201 && answer.status !== 200) {
    context.fail(step, request, `refused what the rules accept (${answer.status})`, answer)
    return false
  }
  for (const [field, expected] of Object.entries(fields)) {
    if (answer.body[field] !== expected) {
      const actual = JSON.stringify(answer.body[field])
      const problem = `${field} is ${actual}, the rules give ${JSON.stringify(expected)}`
      context.fail(step, request, problem, answer)
      return false
    }
  }
  return true
}

/** A planned refusal: 422 with the planned code, or a failure naming what came instead. */
const expectRefused = (
  context: StepContext,
  step: Step,
  request: string,
  answer: Answer,
  refusal: ExpectedRefusal,
): boolean => {
  if (context.refusedAs(refusal, answer)) {
    context.refusedAsPlanned += 1
    return true
  }
  const what = answer.status < 300 ? 'accepted what the rules refuse' : 'refused for another reason'
  context.fail(step, request, `${what}: expected 422 ${refusal.code}, got ${answer.status}`, answer)
  return false
}

const registerMerchant = async (context: StepContext, step: RegisterMerchantStep) => {
  const answer = await post(context, step, '/v1/merchants', step.body)
  const request = `POST /v1/merchants ${step.body.merchantId}`
  if (step.refusal === null) {
    expectAccepted(context, step, request, answer, {})
    return
  }
  if (!expectRefused(context, step, request, answer, step.refusal)) return

  const errors = Array.isArray(answer.body.errors)
    ? (answer.body.errors as { field?: unknown }[])
    : []
  const listed = [...new Set(errors.map((e) => String(e.field)))].sort()
  const expected = [...(step.refusal.fields ?? [])].sort()
  if (listed.join(',') !== expected.join(',')) {
    const problem = `errors name ${listed.join(', ') || 'nothing'}, not ${expected.join(', ')}`
    context.fail(step, request, problem, answer)
  }
}

const purchase = async (context: StepContext, step: PurchaseStep) => {
  const answer = await post(context, step, '/v1/purchases', step.body)
  const request = `POST /v1/purchases ${step.body.purchaseId}`
  if (step.refusal !== null) {
    expectRefused(context, step, request, answer, step.refusal)
    return
  }
  expectAccepted(context, step, request, answer, { ...step.expected })
  const { voucherId, bonusVoucherId } = answer.body
  if (typeof voucherId !== 'string') return
  const bonusId = typeof bonusVoucherId === 'string' ? bonusVoucherId : null
  if ((bonusId === null) !== (step.expected?.bonusCents === 0)) {
    context.fail(step, request, 'bonusVoucherId must be null exactly when the bonus is 0', answer)
  }
  context.voucherIds.set(step.body.purchaseId, { voucherId, bonusVoucherId: bonusId })
}

const redeem = async (context: StepContext, step: RedeemStep) => {
  const ids = context.voucherIds.get(step.purchaseId)
  const voucherId = step.voucherKind === 'bonus' ? ids?.bonusVoucherId : ids?.voucherId
  if (voucherId === undefined || voucherId === null) {
    context.fail(step, '', `no ${step.voucherKind} voucher id: its purchase was not answered`)
    return
  }
  const path = `/v1/vouchers/${voucherId}/redemptions`
  const answer = await post(context, step, path, step.body)
  const request = `POST ${path} ${step.body.redemptionId}`
  if (step.refusal !== null) {
    expectRefused(context, step, request, answer, step.refusal)
    return
  }
  const expected = { amountCents: step.body.amountCents, ...step.expected }
  expectAccepted(context, step, request, answer, expected)
}

const refund = async (context: StepContext, step: RefundStep) => {
  const path = `/v1/purchases/${step.purchaseId}/refunds`
  const answer = await post(context, step, path, step.body)
  const request = `POST ${path} ${step.body.refundId}`
  if (step.refusal !== null) {
    expectRefused(context, step, request, answer, step.refusal)
    return
  }
  expectAccepted(context, step, request, answer, { ...step.expected })
}

const moveStock = async (context: StepContext, step: MoveStockStep) => {
  const path = `/v1/merchants/${step.merchantId}/stock-movements`
  const answer = await post(context, step, path, step.body)
  const request = `POST ${path} ${step.body.movementId}`
  if (step.refusal !== null) {
    expectRefused(context, step, request, answer, step.refusal)
    return
  }
  expectAccepted(context, step, request, answer, { ...step.expected })
}

const payoutRun = async (context: StepContext, step: PayoutRunStep) => {
  const body = { runId: step.runId, occurredAt: isoOf(step.atMs) }
  const answer = await post(context, step, '/v1/payout-runs', body)
  const request = `POST /v1/payout-runs ${step.runId}`
  if (!expectAccepted(context, step, request, answer, {})) return
  const payouts = Array.isArray(answer.body.payouts)
    ? (answer.body.payouts as { payoutId: string; merchantId: string; amountCents: number }[])
    : []
  const shown = (list: readonly { merchantId: string; amountCents: number }[]) =>
    list.map((p) => `${p.merchantId}:${p.amountCents}`).join(' ')
  if (shown(payouts) !== shown(step.expected)) {
    const problem = `payouts differ from what merchants are owed: expected ${shown(step.expected)}`
    context.fail(step, request, problem, answer)
    return
  }
  for (const payout of payouts) {
    context.payoutIds.set(`${step.runId}/${payout.merchantId}`, payout.payoutId)
  }
}

/** Deliveries of one payout go in order; those of different payouts concurrently. */
const settle = async (context: StepContext, step: SettleStep) => {
  const byMerchant = new Map<string, SettleStep['deliveries'][number][]>()
  for (const delivery of step.deliveries) {
    byMerchant.set(delivery.merchantId, [...(byMerchant.get(delivery.merchantId) ?? []), delivery])
  }
  await Promise.all(
    [...byMerchant].map(async ([merchantId, deliveries]) => {
      const payoutId = context.payoutIds.get(`${step.runId}/${merchantId}`)
      if (payoutId === undefined) {
        context.fail(step, '', `no payout id for ${merchantId}: its run was not answered`)
        return
      }
      const copies = new Map<string, number>()
      for (const delivery of deliveries) {
        const copy = copies.get(delivery.eventId) ?? 0
        copies.set(delivery.eventId, copy + 1)
        await deliver(context, step, payoutId, delivery, copy)
      }
    }),
  )
}

const deliver = async (
  context: StepContext,
  step: SettleStep,
  payoutId: string,
  delivery: SettleStep['deliveries'][number],
  copy: number,
) => {
  const { eventId, type, occurredAt, reason } = delivery
  const data = type === 'payout.paid' ? { payoutId } : { payoutId, reason }
  const body = { eventId, type, occurredAt, data }
  const answer = await context.client.processor(body, copy)
  context.noteAnswer(answer)
  const request = `POST /v1/processor/events ${delivery.eventId} (${delivery.type})`
  if (answer.status !== 200) {
    context.fail(step, request, `refused a signed delivery (${answer.status})`, answer)
    return
  }
  const status = answer.body.status
  const asPlanned =
    status === delivery.expectedStatus || (context.rerun && status === 'duplicate')
  if (!asPlanned) {
    const problem = `status ${String(status)}, expected ${delivery.expectedStatus}`
    context.fail(step, request, problem, answer)
  }
}

const expiryRun = async (context: StepContext, step: ExpiryRunStep) => {
  const path = `/v1/programmes/${step.programmeId}/expiry-runs`
  const body = { runId: step.runId, occurredAt: isoOf(step.atMs) }
  const answer = await post(context, step, path, body)
  expectAccepted(context, step, `POST ${path} ${step.runId}`, answer, { ...step.expected })
}
