/**
 * What a simulated season is made of: an ordered list of steps, each one request (or, for a
 * payout run's settlement, one batch of processor deliveries) with the answer the simulator
 * expects. The generator (`generator.ts`) makes the plan from a seed without any I/O; the
 * runner (`runner.ts`) sends it. Every write states its step's instant as `occurredAt`, so the
 * season is dated as it happened whatever the service's clock says, and steps are in the order
 * of their instants, so a stream never receives a stated time earlier than the one before it.
 */

/** How big a season is. Merchants counts those who join; ineligible applicants come on top. */
export interface SeasonSize {
  readonly merchants: number
  readonly customers: number
  readonly purchases: number
}

export interface SeasonOptions extends SeasonSize {
  readonly seed: number
}

/**
 * The default season: big enough for the report's breakdowns by commune to mean something,
 * small enough for the demo to play it in under a minute on a two-core machine. Measured: its
 * 3,000 purchases make 12,993 requests and 33,000 events; the service and the simulator in one
 * process spend about 1.8 ms of CPU per request, 23 s in all, and the demo took 24 s on a shared
 * two-core machine (up to 46 s while other work loaded it). Its purchases go one after another
 * (they share the programme's stream), so the store commits at least once per purchase.
 */
export const defaultSeasonSize: SeasonSize = { merchants: 150, customers: 1_200, purchases: 3_000 }

/** The default seed: the year the scheme's ledger went live. */
export const defaultSeed = 2026

/**
 * The prefix of every id of a season. The seed is in it, so two seeds never share an id; the
 * size is in it when it is not the default, so the same seed at another size is another season
 * rather than an idempotency conflict with the first.
 */
export const seasonTag = (options: SeasonOptions): string => {
  const base = `s${options.seed}`
  const { merchants, customers, purchases } = options
  const isDefault =
    merchants === defaultSeasonSize.merchants &&
    customers === defaultSeasonSize.customers &&
    purchases === defaultSeasonSize.purchases
  return isDefault ? base : `${base}-${merchants}m${customers}c${purchases}p`
}

/** A refusal the plan expects, with the fields a `merchant_not_eligible` must list. */
export interface ExpectedRefusal {
  readonly code: string
  readonly fields?: readonly string[]
}

export type VoucherKind = 'purchased' | 'bonus'

interface StepBase {
  /** The instant the step happens in the season, in epoch milliseconds. */
  readonly atMs: number
}

export interface CreateProgrammeStep extends StepBase {
  readonly kind: 'createProgramme'
  readonly body: ProgrammeBody
}

export interface RegisterMerchantStep extends StepBase {
  readonly kind: 'registerMerchant'
  readonly body: MerchantBody & StatedTime
  readonly refusal: ExpectedRefusal | null
}

export interface PurchaseStep extends StepBase {
  readonly kind: 'purchase'
  readonly body: PurchaseBody
  readonly expected: { readonly bonusCents: number; readonly bonusReduced: boolean } | null
  readonly refusal: ExpectedRefusal | null
}

export interface RedeemStep extends StepBase {
  readonly kind: 'redeem'
  readonly purchaseId: string
  readonly voucherKind: VoucherKind
  readonly body: RedemptionBody
  readonly expected: { readonly remainingCents: number } | null
  readonly refusal: ExpectedRefusal | null
}

export interface RefundStep extends StepBase {
  readonly kind: 'refund'
  readonly purchaseId: string
  readonly body: StatedTime & { readonly refundId: string }
  readonly expected: RefundFigures | null
  readonly refusal: ExpectedRefusal | null
}

export interface MoveStockStep extends StepBase {
  readonly kind: 'moveStock'
  readonly merchantId: string
  readonly body: StockMovementBody
  readonly expected: { readonly onHand: number; readonly reserved: number } | null
  readonly refusal: ExpectedRefusal | null
}

export interface SuspendStep extends StepBase {
  readonly kind: 'suspend'
  readonly merchantId: string
  readonly reason: string
}

export interface PayoutRunStep extends StepBase {
  readonly kind: 'payoutRun'
  readonly runId: string
  /** One payout per merchant owed more than zero, by merchant id. */
  readonly expected: readonly { readonly merchantId: string; readonly amountCents: number }[]
}

export interface SettleStep extends StepBase {
  readonly kind: 'settle'
  readonly runId: string
  /** In the order the processor delivers them: out of order, some twice. */
  readonly deliveries: readonly ProcessorDelivery[]
}

export interface ExpiryRunStep extends StepBase {
  readonly kind: 'expiryRun'
  readonly programmeId: string
  readonly runId: string
  readonly expected: ExpiryFigures
}

export type Step =
  | CreateProgrammeStep
  | RegisterMerchantStep
  | PurchaseStep
  | RedeemStep
  | RefundStep
  | MoveStockStep
  | SuspendStep
  | PayoutRunStep
  | SettleStep
  | ExpiryRunStep

export type StepKind = Step['kind']

/** One delivery of a processor notice; the payout is named by its run and merchant. */
export interface ProcessorDelivery {
  readonly eventId: string
  readonly type: 'payout.paid' | 'payout.failed'
  readonly merchantId: string
  readonly occurredAt: string
  readonly reason: string | null
  /** The answer expected: the first delivery of an event is recorded, a repeat a duplicate. */
  readonly expectedStatus: 'recorded' | 'duplicate'
}

export interface RefundFigures {
  readonly refundedCents: number
  readonly bonusReducedCents: number
  readonly deductedCents: number
}

export interface ExpiryFigures {
  readonly expiredVoucherCount: number
  readonly expiredBonusCents: number
  readonly expiredPurchasedCents: number
}

/** The instant the operator states for a write: the step's, as ISO 8601 UTC. */
export interface StatedTime {
  readonly occurredAt: string
}

export interface ProgrammeBody extends StatedTime {
  readonly programmeId: string
  readonly name: string
  readonly bonusRateBasisPoints: number
  readonly validFrom: string
  readonly validUntil: string
  readonly funders: readonly {
    readonly funderId: string
    readonly name: string
    readonly contributionCents: number
  }[]
  readonly minVoucherCents: number
  readonly maxVoucherCents: number
  readonly maxBonusPerCustomerCents: number
}

export interface MerchantBody {
  readonly merchantId: string
  readonly legalName: string
  readonly siret: string
  readonly communeCode: string
  readonly category: string
  readonly employees: number
  readonly salesAreaM2: number
  readonly annualTurnoverCents: number
}

export interface PurchaseBody extends StatedTime {
  readonly purchaseId: string
  readonly programmeId: string
  readonly merchantId: string
  readonly customerId: string
  readonly amountCents: number
  readonly paymentReference: string
}

export interface RedemptionBody extends StatedTime {
  readonly redemptionId: string
  readonly merchantId: string
  readonly amountCents: number
}

export interface StockMovementBody extends StatedTime {
  readonly movementId: string
  readonly sku: string
  readonly kind: 'received' | 'adjusted' | 'reserved' | 'released' | 'sold'
  readonly quantity: number
  readonly reason?: string
}

/**
 * The figures of the funding report the simulator predicts from its own bookkeeping of the
 * rules; the report the ledger gives must show the same.
 */
export interface ExpectedFigures {
  readonly budgetCents: number
  readonly bonusGrantedCents: number
  readonly bonusRedeemedCents: number
  readonly bonusExpiredCents: number
  readonly bonusReducedCents: number
  readonly bonusRecoveredCents: number
  readonly bonusOutstandingCents: number
  readonly budgetAvailableCents: number
  readonly purchaseCount: number
  readonly purchaseCents: number
  readonly refundedCents: number
  readonly purchasedRedeemedCents: number
  readonly purchasedExpiredCents: number
  readonly paidOutCents: number
  readonly inFlightCents: number
  readonly owedCents: number
}

/** The whole season: its ids, the steps in order, and what the report must say at the end. */
export interface SeasonPlan {
  readonly options: SeasonOptions
  readonly tag: string
  readonly programmeId: string
  readonly steps: readonly Step[]
  readonly expectedFigures: ExpectedFigures
  /** The merchant suspended mid-season, and the one a demo merchant key is made for. */
  readonly suspendedMerchantId: string
  readonly sampleMerchantId: string
  /** Merchants that joined; the end-to-end test reads each one's balance. */
  readonly participatingMerchantIds: readonly string[]
}
