import type { Cents } from '../domain/money'
import { cents, zeroCents } from '../domain/money'
import type { VoucherKind } from '../domain/events'
import type { Projection, ProjectedEvent } from './projection'
import { assertInvariant, noDocs, noKeys, single } from './ledger'

/**
 * Each voucher as `GET /v1/vouchers/:id` answers it, plus what took its value away, so that
 * `remainingCents = valueCents - redeemedCents - refundedCents - reducedCents - expiredCents`
 * always holds and a reader can see why a voucher is worth less than it was.
 *
 * Voucher amounts are counted here from the voucher events themselves rather than from postings:
 * a purchased voucher's redemptions move only the memo accounts of its programme, which do not
 * name the voucher, and a bonus voucher's reduction is posted on its purchase's refund.
 */
export type VoucherStatus = 'active' | 'spent' | 'expired' | 'refunded'

/** One voucher; the API's fields plus the amounts that explain what remains. */
export interface VoucherDoc {
  readonly voucherId: string
  readonly kind: VoucherKind
  readonly programmeId: string
  /** For a bonus voucher, the merchant where it may NOT be spent (the purchase's merchant). */
  readonly merchantId: string
  readonly purchaseId: string
  readonly validUntil: string
  readonly valueCents: Cents
  readonly redeemedCents: Cents
  /** For a purchased voucher, the unredeemed part a refund took back. */
  readonly refundedCents: Cents
  /** For a bonus voucher, the unspent part a refund of its purchase cancelled. */
  readonly reducedCents: Cents
  readonly expiredCents: Cents
  readonly remainingCents: Cents
  readonly status: VoucherStatus
}

/** The amounts an event can take off a voucher. */
interface Taken {
  readonly redeemedCents?: number
  readonly refundedCents?: number
  readonly reducedCents?: number
  readonly expiredCents?: number
}

const keysOf = (event: ProjectedEvent): readonly string[] => {
  switch (event.type) {
    case 'VoucherPurchased':
    case 'BonusVoucherIssued':
    case 'VoucherRedeemed':
    case 'PurchaseRefunded':
    case 'BonusVoucherReduced':
    case 'VoucherExpired':
      return [event.data.voucherId]
    default:
      return noKeys
  }
}

const issued = (
  kind: VoucherKind,
  d: { voucherId: string; programmeId: string; merchantId: string; purchaseId: string },
  valueCents: Cents,
  validUntil: string,
): VoucherDoc => ({
  voucherId: d.voucherId,
  kind,
  programmeId: d.programmeId,
  merchantId: d.merchantId,
  purchaseId: d.purchaseId,
  validUntil,
  valueCents,
  redeemedCents: zeroCents,
  refundedCents: zeroCents,
  reducedCents: zeroCents,
  expiredCents: zeroCents,
  remainingCents: valueCents,
  status: 'active',
})

/**
 * A voucher after an event took `taken` off it: what remains is recomputed and asserted never
 * below zero, and an active voucher left with nothing moves to `statusWhenEmptied`. Built field
 * by field rather than by spreading, because replays create millions of these.
 */
const after = (doc: VoucherDoc, taken: Taken, statusWhenEmptied: VoucherStatus): VoucherDoc => {
  const redeemedCents = cents(doc.redeemedCents + (taken.redeemedCents ?? 0))
  const refundedCents = cents(doc.refundedCents + (taken.refundedCents ?? 0))
  const reducedCents = cents(doc.reducedCents + (taken.reducedCents ?? 0))
  const expiredCents = cents(doc.expiredCents + (taken.expiredCents ?? 0))
  const remainingCents = cents(
    doc.valueCents - redeemedCents - refundedCents - reducedCents - expiredCents,
  )
  assertInvariant(remainingCents >= 0, () => `voucher ${doc.voucherId} below zero`)

  const emptied = remainingCents === 0 && doc.status === 'active'
  return {
    voucherId: doc.voucherId,
    kind: doc.kind,
    programmeId: doc.programmeId,
    merchantId: doc.merchantId,
    purchaseId: doc.purchaseId,
    validUntil: doc.validUntil,
    valueCents: doc.valueCents,
    redeemedCents,
    refundedCents,
    reducedCents,
    expiredCents,
    remainingCents,
    status: emptied ? statusWhenEmptied : doc.status,
  }
}

/**
 * What an event does to an existing voucher. A refund ends a purchased voucher whatever it
 * leaves; an expiry ends any voucher still active, even one with nothing left to expire.
 */
const changed = (event: ProjectedEvent, doc: VoucherDoc): VoucherDoc | undefined => {
  switch (event.type) {
    case 'VoucherRedeemed':
      return after(doc, { redeemedCents: event.data.amountCents }, 'spent')
    case 'PurchaseRefunded': {
      const next = after(doc, { refundedCents: event.data.unredeemedCents }, 'refunded')
      return next.status === 'refunded' ? next : { ...next, status: 'refunded' }
    }
    case 'BonusVoucherReduced':
      return after(doc, { reducedCents: event.data.reducedCents }, 'refunded')
    case 'VoucherExpired': {
      const next = after(doc, { expiredCents: event.data.expiredCents }, 'expired')
      return next.status === 'active' ? { ...next, status: 'expired' } : next
    }
    default:
      return undefined
  }
}

const apply = (
  event: ProjectedEvent,
  current: ReadonlyMap<string, VoucherDoc | undefined>,
): ReadonlyMap<string, VoucherDoc> => {
  if (event.type === 'VoucherPurchased') {
    const d = event.data
    return single(d.voucherId, issued('purchased', d, d.amountCents, d.validUntil))
  }
  if (event.type === 'BonusVoucherIssued') {
    const d = event.data
    return single(d.voucherId, issued('bonus', d, d.valueCents, d.validUntil))
  }

  const voucherId = keysOf(event)[0]
  const doc = voucherId === undefined ? undefined : current.get(voucherId)
  if (doc === undefined) return noDocs
  const next = changed(event, doc)
  return next === undefined ? noDocs : single(doc.voucherId, next)
}

/** Keyed by voucher id. */
export const vouchersProjection: Projection<VoucherDoc> = {
  name: 'vouchers',
  version: 1,
  eventTypes: [
    'VoucherPurchased',
    'BonusVoucherIssued',
    'VoucherRedeemed',
    'PurchaseRefunded',
    'BonusVoucherReduced',
    'VoucherExpired',
  ],
  keysOf,
  apply,
}
