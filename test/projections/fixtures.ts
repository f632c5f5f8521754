import { isLeft } from 'fp-ts/Either'
import { PathReporter } from 'io-ts/PathReporter'
import { eventCodecs, type EventOf, type EventType } from '../../domain/events'
import type { ProjectedEvent } from '../../projections/projection'

/**
 * Builders of valid events for tests. Each decodes its data with the event's codec, so a fixture
 * that drifts from the contract fails loudly instead of testing a shape that cannot happen.
 */
export const event = <K extends EventType>(type: K, data: unknown): EventOf<K> => {
  const decoded = eventCodecs[type].decode(data)
  if (isLeft(decoded)) {
    throw new Error(`bad ${type} fixture: ${PathReporter.report(decoded).join('; ')}`)
  }
  return { type, data: decoded.right } as EventOf<K>
}

/** Wraps domain events as recorded ones, numbering positions from `firstPosition`. */
export const recorded = (
  events: readonly EventOf<EventType>[],
  firstPosition = 1,
): ProjectedEvent[] =>
  events.map(
    (e, index) =>
      ({
        ...e,
        position: firstPosition + index,
        streamId: 'test-stream',
        revision: index,
        occurredAt: '2026-03-01T10:00:00.000Z',
        recordedAt: '2026-03-01T10:00:00.000Z',
      }) as ProjectedEvent,
  )

export const programmeCreated = (programmeId = 'P1', contributions = [100_000, 50_000]) =>
  event('ProgrammeCreated', {
    programmeId,
    name: 'Saison 2026',
    bonusRateBasisPoints: 2500,
    validFrom: '2026-01-01',
    validUntil: '2026-12-31',
    funders: contributions.map((contributionCents, i) => ({
      funderId: `F${i + 1}`,
      name: `Funder ${i + 1}`,
      contributionCents,
    })),
    minVoucherCents: null,
    maxVoucherCents: null,
    maxBonusPerCustomerCents: null,
  })

export const budgetIncreased = (programmeId: string, funderId: string, amountCents: number) =>
  event('ProgrammeBudgetIncreased', {
    programmeId,
    increaseId: `inc-${funderId}-${amountCents}`,
    funderId,
    amountCents,
  })

export interface MerchantPlace {
  communeCode: string
  communeName: string
  groupingSiren: string
  groupingName: string
  category: string
}

export const sarrebourg: MerchantPlace = {
  communeCode: '57630',
  communeName: 'Sarrebourg',
  groupingSiren: '200068146',
  groupingName: 'CC Sarrebourg Moselle Sud',
  category: 'retail',
}

export const chateauSalins: MerchantPlace = {
  communeCode: '57132',
  communeName: 'Château-Salins',
  groupingSiren: '200068120',
  groupingName: 'CC du Saulnois',
  category: 'restaurant',
}

export const merchantRegistered = (merchantId: string, place: MerchantPlace = sarrebourg) =>
  event('MerchantRegistered', {
    merchantId,
    legalName: `Shop ${merchantId}`,
    siret: '12345678900011',
    employees: 3,
    salesAreaM2: 80,
    annualTurnoverCents: 30_000_000,
    ...place,
  })

export interface PurchaseFixture {
  programmeId?: string
  merchantId?: string
  purchaseId?: string
  amountCents: number
  bonusCents: number
}

export const voucherIdsOf = (purchaseId: string) => ({
  voucherId: `v-${purchaseId}`,
  bonusVoucherId: `b-${purchaseId}`,
})

export const voucherPurchased = (p: PurchaseFixture) => {
  const purchaseId = p.purchaseId ?? 'pu1'
  const ids = voucherIdsOf(purchaseId)
  return event('VoucherPurchased', {
    purchaseId,
    programmeId: p.programmeId ?? 'P1',
    merchantId: p.merchantId ?? 'M1',
    customerId: 'c1',
    voucherId: ids.voucherId,
    bonusVoucherId: p.bonusCents > 0 ? ids.bonusVoucherId : null,
    amountCents: p.amountCents,
    bonusCents: p.bonusCents,
    requestedBonusCents: p.bonusCents,
    paymentReference: 'pay-1',
    validUntil: '2026-12-31',
  })
}

export const bonusVoucherIssued = (p: PurchaseFixture) => {
  const purchaseId = p.purchaseId ?? 'pu1'
  const ids = voucherIdsOf(purchaseId)
  return event('BonusVoucherIssued', {
    purchaseId,
    programmeId: p.programmeId ?? 'P1',
    merchantId: p.merchantId ?? 'M1',
    customerId: 'c1',
    voucherId: ids.bonusVoucherId,
    purchasedVoucherId: ids.voucherId,
    valueCents: p.bonusCents,
    validUntil: '2026-12-31',
  })
}

export const voucherRedeemed = (r: {
  voucherId: string
  kind: 'purchased' | 'bonus'
  merchantId: string
  amountCents: number
  remainingCents: number
  programmeId?: string
  redemptionId?: string
}) =>
  event('VoucherRedeemed', {
    redemptionId: r.redemptionId ?? `r-${r.voucherId}-${r.amountCents}-${r.remainingCents}`,
    programmeId: r.programmeId ?? 'P1',
    ...r,
  })

export const purchaseRefunded = (r: {
  purchaseId?: string
  merchantId?: string
  programmeId?: string
  unredeemedCents: number
  refundedCents: number
  recoveredCents: number
  bonusCancelledCents: number
  newBonusEntitlementCents: number
}) => {
  const purchaseId = r.purchaseId ?? 'pu1'
  const ids = voucherIdsOf(purchaseId)
  return event('PurchaseRefunded', {
    refundId: `rf-${purchaseId}`,
    purchaseId,
    programmeId: r.programmeId ?? 'P1',
    merchantId: r.merchantId ?? 'M1',
    customerId: 'c1',
    voucherId: ids.voucherId,
    bonusVoucherId: ids.bonusVoucherId,
    unredeemedCents: r.unredeemedCents,
    refundedCents: r.refundedCents,
    recoveredCents: r.recoveredCents,
    bonusCancelledCents: r.bonusCancelledCents,
    newBonusEntitlementCents: r.newBonusEntitlementCents,
  })
}

export const voucherExpired = (x: {
  voucherId: string
  kind: 'purchased' | 'bonus'
  merchantId?: string
  expiredCents: number
  programmeId?: string
}) =>
  event('VoucherExpired', {
    runId: 'run-expiry',
    programmeId: x.programmeId ?? 'P1',
    merchantId: x.merchantId ?? 'M1',
    ...x,
  })

export const payoutScheduled = (payoutId: string, merchantId: string, amountCents: number) =>
  event('PayoutScheduled', { payoutId, runId: 'run-1', merchantId, amountCents })

export const payoutNotice = (n: {
  payoutId: string
  merchantId: string
  amountCents: number
  outcome: 'paid' | 'failed'
  statusBefore: 'in_flight' | 'paid' | 'failed'
  statusAfter: 'in_flight' | 'paid' | 'failed'
}) =>
  event('PayoutNoticeRecorded', {
    processorEventId: `pe-${n.payoutId}-${n.outcome}`,
    reason: n.outcome === 'failed' ? 'account closed' : null,
    noticeOccurredAt: '2026-03-02T10:00:00.000Z',
    ...n,
  })

export const stockMoved = (s: {
  merchantId: string
  sku: string
  kind: 'received' | 'adjusted' | 'reserved' | 'released' | 'sold'
  quantity: number
  onHand: number
  reserved: number
}) =>
  event('StockMoved', {
    movementId: `mv-${s.sku}-${s.kind}-${s.onHand}-${s.reserved}`,
    reason: null,
    ...s,
  })

/** Folds events through one projection the way the runner does, returning every document. */
export const fold = <Doc>(
  projection: import('../../projections/projection').Projection<Doc>,
  events: readonly ProjectedEvent[],
  docs: Map<string, Doc> = new Map(),
): Map<string, Doc> => {
  for (const e of events) {
    const keys = projection.keysOf(e)
    if (keys.length === 0) continue
    const current = new Map(keys.map((key) => [key, docs.get(key)]))
    for (const [key, doc] of projection.apply(e, current)) docs.set(key, doc)
  }
  return docs
}

const teaMoved = (
  kind: 'received' | 'reserved',
  quantity: number,
  onHand: number,
  reserved: number,
) =>
  stockMoved({ merchantId: 'M1', sku: 'tea', kind, quantity, onHand, reserved })

const redeemed = (
  voucherId: string,
  kind: 'purchased' | 'bonus',
  merchantId: string,
  amountCents: number,
  remainingCents: number,
) => voucherRedeemed({ voucherId, kind, merchantId, amountCents, remainingCents })

const pu1 = { purchaseId: 'pu1', merchantId: 'M1', amountCents: 10_000, bonusCents: 2_500 }
const pu2 = { purchaseId: 'pu2', merchantId: 'M2', amountCents: 20_000, bonusCents: 5_000 }

/**
 * A small season: two funders, three merchants in two groupings, purchases, redemptions of both
 * kinds, the refund of DOMAIN.md rule 6, stock, an expiry and a paid payout.
 */
export const seasonEvents = () => [
  programmeCreated('P1', [100_000, 50_000]),
  budgetIncreased('P1', 'F2', 10_000),
  merchantRegistered('M1', sarrebourg),
  merchantRegistered('M2', chateauSalins),
  merchantRegistered('M3', sarrebourg),
  voucherPurchased(pu1),
  bonusVoucherIssued(pu1),
  voucherPurchased(pu2),
  bonusVoucherIssued(pu2),
  redeemed('b-pu1', 'bonus', 'M2', 2_000, 500),
  redeemed('v-pu1', 'purchased', 'M1', 4_000, 6_000),
  purchaseRefunded({
    purchaseId: 'pu1',
    unredeemedCents: 6_000,
    refundedCents: 5_000,
    recoveredCents: 1_000,
    bonusCancelledCents: 500,
    newBonusEntitlementCents: 1_000,
  }),
  event('BonusVoucherReduced', {
    refundId: 'rf-pu1',
    voucherId: 'b-pu1',
    purchaseId: 'pu1',
    reducedCents: 500,
    remainingCents: 0,
  }),
  teaMoved('received', 5, 5, 0),
  teaMoved('reserved', 2, 5, 2),
  redeemed('b-pu2', 'bonus', 'M1', 5_000, 0),
  redeemed('v-pu2', 'purchased', 'M2', 15_000, 5_000),
  voucherExpired({ voucherId: 'v-pu2', kind: 'purchased', merchantId: 'M2', expiredCents: 5_000 }),
  payoutScheduled('po1', 'M1', 9_000),
  payoutNotice({
    payoutId: 'po1',
    merchantId: 'M1',
    amountCents: 9_000,
    outcome: 'paid',
    statusBefore: 'in_flight',
    statusAfter: 'paid',
  }),
]

