import type { LedgerEvent } from './events'
import { epochMsOf, instantOf, type Instant } from './time'

/**
 * The shapes every decider shares. A decider is pure: given the states folded from the streams
 * it reads and a command, it returns either a rejection or the events to append to each stream.
 * The shell loads the streams, calls `decide`, and appends with the revisions it loaded, so a
 * concurrent writer is caught by the store and the command is decided again.
 */

/**
 * Reasons the domain refuses a command, in precedence order: when several rules fail, the
 * first in this list is reported. Closed: the HTTP edge maps each to a status in one catalogue.
 */
export const rejectionCodes = [
  'not_found',
  'already_exists',
  'invalid_time',
  'merchant_not_eligible',
  'merchant_suspended',
  'wrong_merchant',
  'voucher_expired',
  'amount_out_of_range',
  'insufficient_balance',
  'refund_not_allowed',
  'insufficient_stock',
] as const
export type RejectionCode = (typeof rejectionCodes)[number]

/** One failed criterion, for rejections that list several (merchant eligibility). */
export interface RejectionFieldError {
  readonly field: string
  readonly reason: string
}

export interface Rejection {
  readonly code: RejectionCode
  readonly detail: string
  readonly errors?: readonly RejectionFieldError[]
}

export const reject = (
  code: RejectionCode,
  detail: string,
  errors?: readonly RejectionFieldError[],
): Rejection => (errors === undefined ? { code, detail } : { code, detail, errors })

/** Events for one stream; the shell adds the expected revision it loaded the stream at. */
export interface StreamEvents {
  readonly streamId: string
  readonly events: readonly LedgerEvent[]
}

/** What an accepted command produces: events per stream, and the answer for the caller. */
export interface Decision<Response> {
  readonly appends: readonly StreamEvents[]
  readonly response: Response
}

/**
 * Who sent a command and when. `occurredAt` is what the caller stated (trusted callers only),
 * or the instant it was received; `recordedAt` is the instant it was received. The shell's
 * clock provides both; the domain never reads one.
 */
export interface CommandContext {
  readonly recordedAt: Instant
  readonly occurredAt: Instant
  /** Whether `occurredAt` was stated by the caller rather than taken from the clock. */
  readonly occurredAtStated: boolean
}

/**
 * An event as `evolve` folds it: the domain event with the metadata it was recorded with. A
 * recorded event (src/store/port.ts) and an event built for appending both have this shape, so
 * the shell folds either as it is. States keep the latest `occurredAt` of their stream from it.
 */
export type StreamEvent = LedgerEvent & { readonly metadata: { readonly occurredAt: string } }

/** The later of a stream's latest `occurredAt` and an event's, normalised to an `Instant`. */
export const latestOccurredAt = (latest: Instant | null, event: StreamEvent): Instant => {
  const occurredAtMs = Date.parse(event.metadata.occurredAt)
  if (Number.isNaN(occurredAtMs)) {
    throw new Error(`assertion failed: ${event.type} has no valid occurredAt`)
  }
  if (latest !== null && epochMsOf(latest) >= occurredAtMs) return latest
  return instantOf(occurredAtMs)
}

/**
 * The time rules every command shares. Nobody states a future `occurredAt`; and a stated one
 * may not precede the latest event of the stream the command lands in, since a ledger whose
 * streams run backwards in time cannot be audited. Pass null as `latest` where events arrive out
 * of order by nature (payout notices).
 */
export const timeRejection = (
  context: CommandContext,
  latest: Instant | null,
): Rejection | undefined => {
  const occurredAtMs = epochMsOf(context.occurredAt)
  if (occurredAtMs > epochMsOf(context.recordedAt)) {
    return reject('invalid_time', `occurredAt ${context.occurredAt} is in the future`)
  }
  if (context.occurredAtStated && latest !== null && occurredAtMs < epochMsOf(latest)) {
    return reject('invalid_time', `occurredAt ${context.occurredAt} is before ${latest}`)
  }
  return undefined
}
