import type { FastifyInstance, FastifyRequest } from 'fastify'
import { minPositionWaitMsMax } from '../limits'
import type { Role } from './auth'
import { IdParams } from './codecs'
import { jsonSchemaOf } from './json-schema'
import { Problem } from './problems'
import type { Guard, ServerDeps } from './server'
import { decodeOrThrow } from './write-routes'

/**
 * The read routes: projections answered with the position they reflect. `?minPosition=N` waits
 * a bounded time for the projections to reach N (read-your-writes), then answers 503.
 */
export interface ReadService {
  position(): number
  waitForPosition(position: number, timeoutMs: number): Promise<boolean>
  merchantBalance(merchantId: string): unknown
  voucher(voucherId: string): unknown
  stock(merchantId: string): unknown
  programmeReport(programmeId: string): unknown
  programmeReportCsv(programmeId: string): unknown
}

const readers: readonly Role[] = ['operator', 'auditor', 'dashboard']
const readersAndMerchant: readonly Role[] = [...readers, 'merchant']

interface ReadRoute {
  readonly url: string
  readonly summary: string
  readonly roles: readonly Role[]
  readonly param: string
  /** A merchant key may read this only for its own merchant. */
  readonly merchantScoped: boolean
  readonly read: (reads: ReadService, id: string) => unknown
  readonly csv?: boolean
}

const readRoutes: readonly ReadRoute[] = [
  {
    url: '/v1/merchants/:merchantId/balance',
    summary: "A merchant's balance: owed = purchases - refunds + bonus redeemed - paid - in flight",
    roles: readersAndMerchant,
    param: 'merchantId',
    merchantScoped: true,
    read: (reads, id) => reads.merchantBalance(id),
  },
  {
    url: '/v1/merchants/:merchantId/stock',
    summary: "A merchant's e-shop stock",
    roles: readersAndMerchant,
    param: 'merchantId',
    merchantScoped: true,
    read: (reads, id) => reads.stock(id),
  },
  {
    url: '/v1/vouchers/:voucherId',
    summary: 'A voucher with what remains on it',
    roles: readers,
    param: 'voucherId',
    merchantScoped: false,
    read: (reads, id) => reads.voucher(id),
  },
  {
    url: '/v1/programmes/:programmeId/report',
    summary: "A programme's funding report",
    roles: readers,
    param: 'programmeId',
    merchantScoped: false,
    read: (reads, id) => reads.programmeReport(id),
  },
  {
    url: '/v1/programmes/:programmeId/report.csv',
    summary: "A programme's funding report as CSV (the same figures)",
    roles: readers,
    param: 'programmeId',
    merchantScoped: false,
    read: (reads, id) => reads.programmeReportCsv(id),
    csv: true,
  },
]

export const registerReadRoutes = (app: FastifyInstance, deps: ServerDeps, guard: Guard): void => {
  for (const definition of readRoutes) {
    app.get(
      definition.url,
      {
        ...guard(definition.roles),
        schema: {
          summary: definition.summary,
          params: jsonSchemaOf(IdParams(definition.param)),
          querystring: {
            type: 'object',
            properties: { minPosition: { type: 'integer', minimum: 0 } },
          },
        },
      },
      async (request, reply) => {
        const id = decodeOrThrow(IdParams(definition.param), request.params)[definition.param] ?? ''
        const principal = request.principal
        if (
          definition.merchantScoped &&
          principal?.role === 'merchant' &&
          principal.merchantId !== id
        ) {
          throw new Problem('forbidden', 'a merchant key reads its own merchant only')
        }
        await waitForMinPosition(deps, request)
        const asOfPosition = deps.reads.position()
        const found = await definition.read(deps.reads, id)
        if (found === undefined || found === null) {
          throw new Problem('not_found', `no ${definition.param.replace(/Id$/, '')} ${id}`)
        }
        if (definition.csv === true) {
          return reply
            .type('text/csv; charset=utf-8')
            .header('x-as-of-position', asOfPosition)
            .send(found)
        }
        return { ...(found as Record<string, unknown>), asOfPosition }
      },
    )
  }
}

const minPositionPattern = /^\d{1,15}$/

export const waitForMinPosition = async (deps: ServerDeps, request: FastifyRequest) => {
  const raw = (request.query as Record<string, unknown>).minPosition
  if (raw === undefined) return
  if (typeof raw !== 'string' || !minPositionPattern.test(raw)) {
    throw new Problem('invalid_request', 'minPosition: expected a whole number', [
      { field: 'minPosition', reason: 'expected a whole number, 0 or more' },
    ])
  }
  const caughtUp = await deps.reads.waitForPosition(Number(raw), minPositionWaitMsMax)
  if (!caughtUp) {
    throw new Problem(
      'projection_lagging',
      `the read models are at ${deps.reads.position()}, not yet at ${raw}; retry shortly`,
    )
  }
}
