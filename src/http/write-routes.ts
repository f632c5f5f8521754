import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as E from 'fp-ts/Either'
import type * as t from 'io-ts'
import type { Instant } from '../../domain/time'
import { instantOf } from '../../domain/time'
import type { CommandOutcome } from '../app/executor'
import { canonicalJson } from '../audit/hash'
import type { Principal, Role } from './auth'
import {
  CreateProgrammeBody,
  IdParams,
  IncreaseBudgetBody,
  ProcessorEventBody,
  PurchaseBody,
  ReasonBody,
  RedemptionBody,
  RefundBody,
  RegisterMerchantBody,
  RunBody,
  StockMovementBody,
  processorEventData,
} from './codecs'
import { jsonSchemaOf } from './json-schema'
import { Problem } from './problems'
import type { Guard, ServerDeps } from './server'
import { decodeWith } from './validation'

/**
 * The write routes of API.md. Each decodes its body and parameters with a codec, checks what the
 * caller's role allows, and hands a typed command to the application; the answer is the
 * decision's response with the ledger position, 201 the first time and 200 for a repeat.
 */

/** Who is calling and when, as the application needs it. */
export interface Caller {
  readonly principal: Principal
  readonly correlationId: string
  /** The `Idempotency-Key` header, scoped to the calling key. */
  readonly idempotencyKey: string | undefined
  readonly recordedAt: Instant
}

type Outcome = Promise<CommandOutcome<unknown>>
type Body<C extends t.Mixed> = t.TypeOf<C>

export interface LedgerCommands {
  createProgramme(body: Body<typeof CreateProgrammeBody>, caller: Caller): Outcome
  increaseBudget(
    programmeId: string,
    body: Body<typeof IncreaseBudgetBody>,
    caller: Caller,
  ): Outcome
  registerMerchant(body: Body<typeof RegisterMerchantBody>, caller: Caller): Outcome
  suspendMerchant(merchantId: string, body: Body<typeof ReasonBody>, caller: Caller): Outcome
  reinstateMerchant(merchantId: string, body: Body<typeof ReasonBody>, caller: Caller): Outcome
  purchase(body: Body<typeof PurchaseBody>, caller: Caller): Outcome
  refund(purchaseId: string, body: Body<typeof RefundBody>, caller: Caller): Outcome
  redeem(voucherId: string, body: Body<typeof RedemptionBody>, caller: Caller): Outcome
  runExpiry(programmeId: string, body: Body<typeof RunBody>, caller: Caller): Outcome
  runPayouts(body: Body<typeof RunBody>, caller: Caller): Outcome
  recordProcessorEvent(body: ProcessorEvent, caller: Caller): Outcome
  moveStock(merchantId: string, body: Body<typeof StockMovementBody>, caller: Caller): Outcome
}

export type ProcessorEvent =
  | { eventId: string; type: 'payout.paid'; occurredAt: Instant; data: { payoutId: string } }
  | {
      eventId: string
      type: 'payout.failed'
      occurredAt: Instant
      data: { payoutId: string; reason: string }
    }
  | {
      eventId: string
      type: 'payment.refunded'
      occurredAt: Instant
      data: { purchaseId: string; refundId: string }
    }

interface WriteRoute {
  readonly url: string
  readonly summary: string
  readonly roles: readonly Role[]
  readonly body: t.Mixed
  readonly params: readonly string[]
  /** For merchant keys: the merchant the request acts for, which must be the key's own. */
  readonly actsFor?: (params: Record<string, string>, body: Record<string, unknown>) => string
  readonly run: (
    commands: LedgerCommands,
    params: Record<string, string>,
    body: never,
    caller: Caller,
  ) => Outcome
}

const route = <C extends t.Mixed>(
  definition: Omit<WriteRoute, 'body' | 'run'> & {
    body: C
    run: (c: LedgerCommands, p: Record<string, string>, b: t.TypeOf<C>, caller: Caller) => Outcome
  },
): WriteRoute => definition as unknown as WriteRoute

const operator: readonly Role[] = ['operator']

const writeRoutes: readonly WriteRoute[] = [
  route({
    url: '/v1/programmes',
    summary: 'Create a funding programme',
    roles: operator,
    body: CreateProgrammeBody,
    params: [],
    run: (c, _p, body, caller) => c.createProgramme(body, caller),
  }),
  route({
    url: '/v1/programmes/:programmeId/budget-increases',
    summary: "Increase a programme's budget",
    roles: operator,
    body: IncreaseBudgetBody,
    params: ['programmeId'],
    run: (c, p, body, caller) => c.increaseBudget(p.programmeId ?? '', body, caller),
  }),
  route({
    url: '/v1/merchants',
    summary: 'Register a merchant (422 merchant_not_eligible lists every failed criterion)',
    roles: operator,
    body: RegisterMerchantBody,
    params: [],
    run: (c, _p, body, caller) => c.registerMerchant(body, caller),
  }),
  route({
    url: '/v1/merchants/:merchantId/suspensions',
    summary: 'Suspend a merchant',
    roles: operator,
    body: ReasonBody,
    params: ['merchantId'],
    run: (c, p, body, caller) => c.suspendMerchant(p.merchantId ?? '', body, caller),
  }),
  route({
    url: '/v1/merchants/:merchantId/reinstatements',
    summary: 'Reinstate a suspended merchant',
    roles: operator,
    body: ReasonBody,
    params: ['merchantId'],
    run: (c, p, body, caller) => c.reinstateMerchant(p.merchantId ?? '', body, caller),
  }),
  route({
    url: '/v1/purchases',
    summary: 'Record a purchase: a voucher for a merchant and its bonus voucher',
    roles: operator,
    body: PurchaseBody,
    params: [],
    run: (c, _p, body, caller) => c.purchase(body, caller),
  }),
  route({
    url: '/v1/purchases/:purchaseId/refunds',
    summary: 'Refund the unredeemed part of a purchase (rule 6)',
    roles: operator,
    body: RefundBody,
    params: ['purchaseId'],
    run: (c, p, body, caller) => c.refund(p.purchaseId ?? '', body, caller),
  }),
  route({
    url: '/v1/vouchers/:voucherId/redemptions',
    summary: 'Redeem part or all of a voucher at a merchant',
    roles: ['operator', 'merchant'],
    body: RedemptionBody,
    params: ['voucherId'],
    actsFor: (_p, body) => String(body.merchantId),
    run: (c, p, body, caller) => c.redeem(p.voucherId ?? '', body, caller),
  }),
  route({
    url: '/v1/programmes/:programmeId/expiry-runs',
    summary: 'Expire what remains on the vouchers of an ended programme',
    roles: operator,
    body: RunBody,
    params: ['programmeId'],
    run: (c, p, body, caller) => c.runExpiry(p.programmeId ?? '', body, caller),
  }),
  route({
    url: '/v1/payout-runs',
    summary: 'Pay every merchant what it is owed',
    roles: operator,
    body: RunBody,
    params: [],
    run: (c, _p, body, caller) => c.runPayouts(body, caller),
  }),
  route({
    url: '/v1/merchants/:merchantId/stock-movements',
    summary: "Record a movement of a merchant's e-shop stock",
    roles: ['operator', 'merchant'],
    body: StockMovementBody,
    params: ['merchantId'],
    actsFor: (p) => p.merchantId ?? '',
    run: (c, p, body, caller) => c.moveStock(p.merchantId ?? '', body, caller),
  }),
]

/** Roles trusted to state when something happened (API.md). */
const rolesStatingTime: readonly Role[] = ['operator', 'processor']

export const registerWriteRoutes = (app: FastifyInstance, deps: ServerDeps, guard: Guard): void => {
  for (const definition of writeRoutes) {
    app.post(
      definition.url,
      {
        ...guard(definition.roles),
        schema: routeSchema(definition.summary, definition.body, definition.params, 201),
      },
      async (request, reply) => {
        const params = decodeOrThrow(IdParams(...definition.params), request.params)
        const body = decodeOrThrow(definition.body, request.body) as Record<string, unknown>
        const caller = callerOf(request, deps)
        checkActsFor(definition, caller.principal, params, body)
        if (body.occurredAt !== undefined && !rolesStatingTime.includes(caller.principal.role)) {
          throw new Problem(
            'forbidden',
            `the ${caller.principal.role} role may not state occurredAt`,
          )
        }
        const outcome = await definition.run(deps.commands, params, body as never, caller)
        return answer(reply, outcome, (response, replayed) => [replayed ? 200 : 201, response])
      },
    )
  }
  registerProcessorRoute(app, deps, guard)
}

const registerProcessorRoute = (app: FastifyInstance, deps: ServerDeps, guard: Guard): void => {
  app.post(
    '/v1/processor/events',
    {
      ...guard(['processor']),
      schema: routeSchema(
        'Record a settlement event of the payment processor (signed)',
        ProcessorEventBody,
        [],
        200,
      ),
    },
    async (request, reply) => {
      const problem = deps.signatures.verify(
        headerOf(request, 'ledger-signature'),
        request.rawBody ?? '',
        deps.clockMs(),
      )
      if (problem !== undefined) throw new Problem('unauthenticated', problem)
      const envelope = decodeOrThrow(ProcessorEventBody, request.body)
      const dataCodec: t.Mixed = processorEventData[envelope.type]
      const data: unknown = decodeOrThrow(dataCodec, envelope.data, 'data.')
      const event = { ...envelope, data } as ProcessorEvent
      const outcome = await deps.commands.recordProcessorEvent(event, callerOf(request, deps))
      return answer(reply, outcome, (response, replayed) => {
        const status = replayed || (response as { status?: string }).status === 'duplicate'
        return [200, { ...response, status: status ? 'duplicate' : 'recorded' }]
      })
    },
  )
}

const answer = (
  reply: FastifyReply,
  outcome: CommandOutcome<unknown>,
  shape: (
    response: Record<string, unknown>,
    replayed: boolean,
  ) => [number, Record<string, unknown>],
) => {
  switch (outcome.kind) {
    case 'accepted':
    case 'replayed': {
      const response = outcome.response as Record<string, unknown>
      const [status, body] = shape(response, outcome.kind === 'replayed')
      // Canonical JSON, keys sorted: the recorded answer comes back from the log with its keys
      // in that order, and a repeat must be the first answer byte for byte (API.md).
      return reply
        .status(status)
        .type('application/json; charset=utf-8')
        .send(canonicalJson({ ...body, position: outcome.position }))
    }
    case 'rejected':
      throw new Problem(outcome.rejection.code, outcome.rejection.detail, outcome.rejection.errors)
    case 'idempotency_conflict':
      throw new Problem(
        'idempotency_conflict',
        `${outcome.idempotencyKey} was first used with a different request`,
      )
    case 'concurrency_exhausted':
      throw new Problem(
        'concurrency_conflict',
        `still conflicting after ${outcome.attempts} attempts; retry the same request`,
      )
  }
}

const checkActsFor = (
  definition: WriteRoute,
  principal: Principal,
  params: Record<string, string>,
  body: Record<string, unknown>,
): void => {
  if (principal.role !== 'merchant' || definition.actsFor === undefined) return
  if (definition.actsFor(params, body) !== principal.merchantId) {
    throw new Problem('forbidden', 'a merchant key acts for its own merchant only')
  }
}

export const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, input: unknown, prefix = ''): A => {
  const decoded = decodeWith(codec, input)
  if (E.isRight(decoded)) return decoded.right
  const errors = decoded.left.map((e) => ({ ...e, field: `${prefix}${e.field}` }))
  const fields = errors.map((e) => e.field).join(', ')
  throw new Problem('invalid_request', `invalid fields: ${fields}`, errors)
}

const headerOf = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Idempotency keys: visible ASCII, as long as an id may be and a little more for UUIDs. */
const idempotencyKeyPattern = /^[\x21-\x7e]{1,128}$/

const callerOf = (request: FastifyRequest, deps: ServerDeps): Caller => {
  const principal = request.principal
  if (principal === undefined || principal === null) {
    throw new Error('assertion failed: a guarded route ran without a principal')
  }
  const idempotencyKey = headerOf(request, 'idempotency-key')
  if (idempotencyKey !== undefined && !idempotencyKeyPattern.test(idempotencyKey)) {
    throw new Problem('invalid_request', 'Idempotency-Key: 1 to 128 visible ASCII characters', [
      { field: 'Idempotency-Key', reason: 'expected 1 to 128 visible ASCII characters' },
    ])
  }
  return {
    principal,
    correlationId: request.id,
    idempotencyKey:
      idempotencyKey === undefined ? undefined : `${principal.keyId}:${idempotencyKey}`,
    recordedAt: instantOf(deps.clockMs()),
  }
}

const routeSchema = (
  summary: string,
  body: t.Mixed,
  params: readonly string[],
  successStatus: number,
) => ({
  summary,
  body: jsonSchemaOf(body),
  ...(params.length === 0 ? {} : { params: jsonSchemaOf(IdParams(...params)) }),
  response: {
    [successStatus]: { description: 'Accepted, with the ledger position', type: 'object' },
    ...(successStatus === 201
      ? {
          200: { description: 'A repeat of an accepted request: the first answer', type: 'object' },
        }
      : {}),
    '4xx': { description: 'A problem (RFC 9457)', $ref: 'Problem#' },
  },
})
