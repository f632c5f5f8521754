import type { RejectionCode } from '../../domain/decider'
import type { FieldError } from './validation'

/**
 * The one error catalogue of the HTTP edge. Every answer that is not a success is a problem
 * (RFC 9457) with one of these codes; domain rejections and infrastructure failures both map
 * here, so a status is chosen in exactly one place.
 */
const catalogue = {
  invalid_request: { status: 400, title: 'The request does not match the contract' },
  unauthenticated: { status: 401, title: 'Missing or invalid credentials' },
  forbidden: { status: 403, title: 'This role may not do this' },
  not_found: { status: 404, title: 'No such resource' },
  idempotency_conflict: { status: 409, title: 'This id was already used for another request' },
  already_exists: { status: 409, title: 'This resource exists already' },
  concurrency_conflict: { status: 409, title: 'Too many concurrent changes; retry' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The request body must be JSON' },
  merchant_not_eligible: { status: 422, title: 'The merchant is not eligible for the scheme' },
  merchant_suspended: { status: 422, title: 'The merchant is suspended' },
  voucher_expired: { status: 422, title: 'The voucher has expired' },
  insufficient_balance: { status: 422, title: 'The voucher does not hold enough' },
  wrong_merchant: { status: 422, title: 'The voucher cannot be spent at this merchant' },
  amount_out_of_range: { status: 422, title: 'The amount is outside the allowed range' },
  insufficient_stock: { status: 422, title: 'Not enough stock' },
  invalid_time: { status: 422, title: 'The time of the request is not acceptable' },
  refund_not_allowed: { status: 422, title: 'This purchase cannot be refunded' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal error' },
  projection_lagging: { status: 503, title: 'The read model has not caught up yet' },
  store_unavailable: { status: 503, title: 'The event store is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>

export type ProblemCode = keyof typeof catalogue

// Every rejection of the domain has its entry: this line fails to compile otherwise.
const rejectionsCatalogued: Record<RejectionCode, unknown> = catalogue
void rejectionsCatalogued

export const problemCodes = Object.keys(catalogue) as ProblemCode[]

export const statusOf = (code: ProblemCode): number => catalogue[code].status

/** A problem to answer with; thrown inside handlers and turned into a response in one place. */
export class Problem extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: readonly FieldError[],
  ) {
    super(detail)
    this.name = 'Problem'
  }

  get status(): number {
    return statusOf(this.code)
  }

  toJSON(instance?: string): Record<string, unknown> {
    return {
      type: `urn:moselle-sud-ledger:problem:${this.code}`,
      title: catalogue[this.code].title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(instance === undefined ? {} : { instance }),
      ...(this.errors === undefined ? {} : { errors: this.errors }),
    }
  }
}

/** The JSON schema of a problem, for the OpenAPI document. */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', enum: problemCodes },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'reason'],
        properties: { field: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
} as const
