import * as t from 'io-ts'
import { MerchantCategory, StockMovementKind } from '../../domain/events'
import { Id, communeCodePattern, idPattern, siretPattern } from '../../domain/ids'
import { AmountCents, BasisPoints, BoundedCents } from '../../domain/money'
import { CalendarDate, Instant } from '../../domain/time'
import { fundersMax, stockQuantityMax, textLengthMax } from '../limits'

/**
 * Beyond API.md, every operator write takes an optional `occurredAt`, so that the platform can
 * record what happened earlier (a season loaded after the fact, a programme dated to its
 * council decision) under the same rules: never in the future, never before the last event of
 * the stream it lands in. Without it, a programme could only be dated now and no purchase
 * could ever be stated before that instant.
 *
 * The codecs of what callers send: every request body of API.md, closed (an unknown field is an
 * error, not silently dropped), each field checked for its type, range and pattern. The OpenAPI
 * document is generated from these same codecs (src/http/json-schema.ts), so it cannot drift.
 */

/**
 * An object codec that refuses fields it does not name. `required` and `optional` stay readable
 * on the codec so the JSON schema can be generated from it.
 */
export class ClosedType<R extends t.Props, O extends t.Props> extends t.Type<
  t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>>,
  unknown,
  unknown
> {
  readonly _tag = 'ClosedType' as const
  constructor(
    name: string,
    readonly required: R,
    readonly optional: O,
  ) {
    const base = t.intersection([t.type(required), t.partial(optional)])
    const allowed = new Set([...Object.keys(required), ...Object.keys(optional)])
    super(
      name,
      (u): u is t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>> => base.is(u),
      (u, context) => {
        if (typeof u !== 'object' || u === null || Array.isArray(u)) {
          return t.failure(u, context, 'expected a JSON object')
        }
        const unknownKeys = Object.keys(u).filter((key) => !allowed.has(key))
        const unknownErrors: t.Errors = unknownKeys.map((key) => ({
          value: (u as Record<string, unknown>)[key],
          context: [...context, { key, type: t.never, actual: u }],
          message: 'is not a field of this request',
        }))
        const decoded = base.validate(u, context)
        if (unknownErrors.length === 0) return decoded
        return t.failures(
          decoded._tag === 'Left' ? [...unknownErrors, ...decoded.left] : unknownErrors,
        )
      },
      t.identity,
    )
  }
}

export const closed = <R extends t.Props, O extends t.Props = {}>(
  name: string,
  required: R,
  optional: O = {} as O,
): ClosedType<R, O> => new ClosedType(name, required, optional)

/**
 * Free text: not empty, not longer than `textLengthMax`, without control characters (they have
 * no place in a name or a reason, and would break the tab-separated FEC and log lines).
 */
export const Text = t.refinement(
  t.string,
  (s) => s.trim().length > 0 && s.length <= textLengthMax && !/[\u0000-\u001f\u007f]/.test(s),
  'Text',
)
export const Siret = t.refinement(t.string, (s) => siretPattern.test(s), 'Siret')
export const CommuneCode = t.refinement(t.string, (s) => communeCodePattern.test(s), 'CommuneCode')
export const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'Count')
export const Quantity = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && Math.abs(n) <= stockQuantityMax,
  'Quantity',
)
const Funders = t.refinement(
  t.array(closed('Funder', { funderId: Id, name: Text, contributionCents: AmountCents })),
  (funders) => funders.length >= 1 && funders.length <= fundersMax,
  'Funders',
)

export const CreateProgrammeBody = closed(
  'CreateProgramme',
  {
    programmeId: Id,
    name: Text,
    bonusRateBasisPoints: BasisPoints,
    validFrom: CalendarDate,
    validUntil: CalendarDate,
    funders: Funders,
  },
  {
    minVoucherCents: AmountCents,
    maxVoucherCents: AmountCents,
    maxBonusPerCustomerCents: BoundedCents,
    occurredAt: Instant,
  },
)

export const IncreaseBudgetBody = closed(
  'IncreaseBudget',
  { increaseId: Id, funderId: Id, amountCents: AmountCents },
  { occurredAt: Instant },
)

export const RegisterMerchantBody = closed(
  'RegisterMerchant',
  {
    merchantId: Id,
    legalName: Text,
    siret: Siret,
    communeCode: CommuneCode,
    category: MerchantCategory,
    employees: Count,
    salesAreaM2: Count,
    annualTurnoverCents: BoundedCents,
  },
  { occurredAt: Instant },
)

export const ReasonBody = closed('Reason', { reason: Text }, { occurredAt: Instant })

export const PurchaseBody = closed(
  'PurchaseVoucher',
  {
    purchaseId: Id,
    programmeId: Id,
    merchantId: Id,
    customerId: Id,
    amountCents: AmountCents,
    paymentReference: Text,
  },
  { occurredAt: Instant },
)

export const RefundBody = closed('RefundPurchase', { refundId: Id }, { occurredAt: Instant })

export const RedemptionBody = closed(
  'RedeemVoucher',
  { redemptionId: Id, merchantId: Id, amountCents: AmountCents },
  { occurredAt: Instant },
)

export const RunBody = closed('Run', { runId: Id }, { occurredAt: Instant })

export const ProcessorEventBody = closed('ProcessorEvent', {
  eventId: Id,
  type: t.keyof({ 'payout.paid': null, 'payout.failed': null, 'payment.refunded': null }),
  occurredAt: Instant,
  data: t.UnknownRecord,
})

/** The `data` of each processor event type, checked once the type is known. */
export const processorEventData = {
  'payout.paid': closed('PayoutPaidData', { payoutId: Id }),
  'payout.failed': closed('PayoutFailedData', { payoutId: Id, reason: Text }),
  'payment.refunded': closed('PaymentRefundedData', { purchaseId: Id, refundId: Id }),
} as const

export const StockMovementBody = closed(
  'MoveStock',
  { movementId: Id, sku: Id, kind: StockMovementKind, quantity: Quantity },
  { reason: Text, occurredAt: Instant },
)

/** Route parameters: every id in a path has the pattern of an id. */
export const IdParams = (...names: string[]) =>
  closed('Params', Object.fromEntries(names.map((name) => [name, Id])) as Record<string, typeof Id>)

export const MinPositionQuery = closed('ReadQuery', {}, { minPosition: t.string })

export { idPattern }
