import { Agenda } from './agenda'
import {
  bonusRateBasisPoints,
  bonusSpendShares,
  budgetPerPurchaseCents,
  intendedSpendCents,
  maxBonusPerCustomerCents,
  maxVoucherCents,
  minVoucherCents,
  purchasedSpendShares,
  refundAfterBonusShare,
  refundDelayMsMax,
  refundShare,
  settlementDelayMs,
  settlementDeliveries,
  spendDelayMsMax,
  spendDelayMsMin,
  visitAmountsCents,
  voucherAmountCents,
} from './behaviour'
import {
  dayMs,
  hourMs,
  isoOf,
  minuteMs,
  nextShopInstantMs,
  seasonCalendar,
  seasonDays,
  webShopInstantMs,
  weeklyPayoutRunsMs,
  type SeasonCalendar,
} from './calendar'
import { MerchantChoice, planCustomers, type Customer } from './customers'
import { planApplicants, type Applicant } from './merchants'
import { LedgerModel } from './model'
import type {
  ExpectedRefusal,
  ProgrammeBody,
  SeasonOptions,
  SeasonPlan,
  Step,
  VoucherKind,
} from './plan'
import { seasonTag } from './plan'
import { Rng, weightTable } from './random'
import { StockKeeper } from './stock'
import {
  outsideCommunes,
  simulatedCommunes,
  simulatedGroupings,
  type SimulatedCommune,
} from './territory'
import { RefusalProbes } from './probes'

/**
 * The season generator: from a seed and a size, the whole season as a plan of requests, with
 * no I/O and no clock. It plays the season on an agenda, earliest happening first, and keeps
 * the simulator's own model of the rules (`model.ts`) in step, so it plans only spends a
 * voucher can cover and refunds the rules allow, and knows every answer to expect.
 */
export const generateSeason = (options: SeasonOptions): SeasonPlan => {
  checkOptions(options)
  return new SeasonGenerator(options).run()
}

/** Happenings on the generator's agenda; each becomes zero or more steps when its time comes. */
export type Happening =
  | { readonly kind: 'purchase'; readonly customer: Customer }
  | {
      readonly kind: 'redeem'
      readonly purchaseId: string
      readonly voucherKind: VoucherKind
      readonly merchantId: string
      readonly amountCents: number
    }
  | { readonly kind: 'refund'; readonly purchaseId: string }
  | { readonly kind: 'suspend' }
  | { readonly kind: 'payoutRun'; readonly runId: string }
  | { readonly kind: 'settle'; readonly runId: string; readonly runAtMs: number }
  | { readonly kind: 'expiryRun' }
  | { readonly kind: 'stock'; readonly run: () => void }
  | { readonly kind: 'probe'; readonly run: (atMs: number) => void }

/** A spend to plan: which voucher, where, how much, and what the ledger must answer. */
export interface PlannedSpend {
  readonly atMs: number
  readonly purchaseId: string
  readonly voucherKind: VoucherKind
  readonly merchantId: string
  readonly amountCents: number
  readonly expected: { readonly remainingCents: number } | null
  readonly refusal: ExpectedRefusal | null
}

/** The day of the mid-season suspension: the first of December, at ten in the morning. */
const suspensionDayOffsetDays = 30
const suspensionHour = 10

/**
 * Customers who bought late still spend before the end: visits are drawn no later than the
 * evening of 31 December (shops close at 19:30, the validity ends at midnight).
 */
const lastVisitLeadMs = 5 * hourMs

/** A small season still plans a few refunds, so every rule of a refund is seen at work. */
const refundsMin = 4

/** Purchases and redemptions at the suspended merchant sent anyway, to see them refused. */
export const suspendedPurchaseChecksMax = 3
export const suspendedRedemptionChecksMax = 6

class SeasonGenerator {
  readonly tag: string
  readonly programmeId: string
  readonly calendar: SeasonCalendar = seasonCalendar()
  readonly steps: Step[] = []
  readonly agenda = new Agenda<Happening>()
  readonly model: LedgerModel
  readonly applicants: readonly Applicant[]
  readonly merchants: readonly Applicant[]
  readonly choice: MerchantChoice
  readonly stock: StockKeeper
  readonly probes: RefusalProbes
  private readonly communes: readonly SimulatedCommune[] = simulatedCommunes()
  private readonly rngOf: (label: string) => Rng
  private readonly behaviour: Rng
  private readonly counters = { purchase: 0, redemption: 0, refund: 0 }
  private readonly refundRequested = new Set<string>()
  private readonly checks = { suspendedPurchases: 0, suspendedRedemptions: 0 }
  private suspendedMerchantId = ''

  constructor(readonly options: SeasonOptions) {
    this.tag = seasonTag(options)
    this.programmeId = `moselle-sud-2025-${this.tag}`
    this.rngOf = (label) => Rng.of(options.seed, label)
    this.behaviour = this.rngOf('behaviour')
    this.applicants = planApplicants(
      this.rngOf('merchants'),
      this.tag,
      this.communes,
      outsideCommunes(),
      options.merchants,
    )
    this.merchants = this.applicants.filter((a) => a.failedFields.length === 0)
    this.choice = new MerchantChoice(this.merchants)
    const { funders } = this.programmeBody()
    this.model = new LedgerModel({
      budgetCents: funders.reduce((sum, funder) => sum + funder.contributionCents, 0),
      bonusRateBasisPoints,
      maxBonusPerCustomerCents,
    })
    this.stock = new StockKeeper(this, this.rngOf('stock'))
    this.probes = new RefusalProbes(this, this.rngOf('probes'))
  }

  run(): SeasonPlan {
    const body = this.programmeBody()
    this.emit({ kind: 'createProgramme', atMs: this.calendar.setupStartMs, body })
    this.registerApplicants()
    this.scheduleSeason()
    for (let next = this.agenda.next(); next !== undefined; next = this.agenda.next()) {
      this.handle(next.atMs, next.item)
    }
    const sample = this.merchants.find((m) => m.clickAndCollect) ?? this.merchants[0]
    return {
      options: this.options,
      tag: this.tag,
      programmeId: this.programmeId,
      steps: this.steps,
      expectedFigures: this.model.expectedFigures(),
      suspendedMerchantId: this.suspendedMerchantId,
      sampleMerchantId: sample?.body.merchantId ?? '',
      participatingMerchantIds: this.merchants.map((m) => m.body.merchantId),
    }
  }

  /** Adds a step at the current time; steps leave in the order they are emitted. */
  emit(step: Step): void {
    const last = this.steps[this.steps.length - 1]
    if (last !== undefined && step.atMs < last.atMs) {
      throw new Error(`assertion failed: ${step.kind} planned before the step ahead of it`)
    }
    this.steps.push(step)
  }

  private nextRedemptionId(): string {
    this.counters.redemption += 1
    return `${this.tag}-r${String(this.counters.redemption).padStart(7, '0')}`
  }

  /**
   * The funders give in proportion to their population, in whole euros. The programme and its
   * funding are dated the day set-up starts, before any merchant applies or any sale.
   */
  private programmeBody(): ProgrammeBody {
    const groupings = simulatedGroupings(this.communes)
    const budgetCents = this.options.purchases * budgetPerPurchaseCents
    const population = groupings.reduce((sum, g) => sum + g.population, 0)
    const funders = groupings.map((grouping) => ({
      funderId: `epci-${grouping.groupingSiren}`,
      name: grouping.groupingName,
      contributionCents: Math.max(
        100,
        Math.round((budgetCents * grouping.population) / population / 100) * 100,
      ),
    }))
    return {
      programmeId: this.programmeId,
      name: `Bons d'achat Moselle Sud, saison ${this.calendar.validFrom.slice(0, 4)}`,
      bonusRateBasisPoints,
      validFrom: this.calendar.validFrom,
      validUntil: this.calendar.validUntil,
      funders,
      minVoucherCents,
      maxVoucherCents,
      maxBonusPerCustomerCents,
      occurredAt: isoOf(this.calendar.setupStartMs),
    }
  }

  /** Applications arrive over the weeks before the season; ineligible ones are refused. */
  private registerApplicants(): void {
    const rng = this.rngOf('applications')
    const windowMs = this.calendar.seasonStartMs - this.calendar.setupStartMs - dayMs
    const times = this.applicants
      .map(() => this.calendar.setupStartMs + hourMs + rng.int(0, windowMs))
      .sort((a, b) => a - b)
    this.applicants.forEach((applicant, index) => {
      const atMs = times[index] ?? this.calendar.setupStartMs
      const failed = applicant.failedFields
      const refusal: ExpectedRefusal | null =
        failed.length === 0 ? null : { code: 'merchant_not_eligible', fields: failed }
      const body = { ...applicant.body, occurredAt: isoOf(atMs) }
      this.emit({ kind: 'registerMerchant', atMs, body, refusal })
    })
    const lastAtMs = times[times.length - 1] ?? this.calendar.setupStartMs
    this.stock.openShops(lastAtMs + hourMs)
  }

  private scheduleSeason(): void {
    const customers = planCustomers(
      this.rngOf('customers'),
      this.tag,
      this.communes,
      this.options.customers,
      this.options.purchases,
    )
    const rng = this.rngOf('purchase-times')
    const days = weightTable(seasonDays(this.calendar), (day) => day.weight)
    for (const customer of customers) {
      for (let n = 0; n < customer.purchaseCount; n += 1) {
        this.agenda.add(webShopInstantMs(rng, rng.pickFromTable(days).startMs), {
          kind: 'purchase',
          customer,
        })
      }
    }
    this.scheduleOperations()
    this.stock.scheduleRestocks()
    this.probes.schedule()
  }

  private scheduleOperations(): void {
    const { calendar } = this
    const suspensionMs =
      calendar.seasonStartMs + suspensionDayOffsetDays * dayMs + suspensionHour * hourMs
    this.agenda.add(suspensionMs, { kind: 'suspend' })
    for (const runAtMs of [...weeklyPayoutRunsMs(calendar), calendar.finalPayoutRunMs]) {
      const runId = `${this.tag}-payouts-${isoOf(runAtMs).slice(0, 10)}`
      this.agenda.add(runAtMs, { kind: 'payoutRun', runId })
      this.agenda.add(runAtMs + settlementDelayMs, { kind: 'settle', runId, runAtMs })
    }
    this.agenda.add(calendar.expiryRunMs, { kind: 'expiryRun' })
  }

  private handle(atMs: number, happening: Happening): void {
    switch (happening.kind) {
      case 'purchase':
        return this.purchase(atMs, happening.customer)
      case 'redeem':
        return this.redeem(atMs, happening)
      case 'refund':
        return this.refund(atMs, happening.purchaseId)
      case 'suspend':
        return this.suspend(atMs)
      case 'payoutRun':
        return this.payoutRun(atMs, happening.runId)
      case 'settle':
        return this.settle(atMs, happening.runId, happening.runAtMs)
      case 'expiryRun':
        return this.emitExpiryRun(atMs)
      case 'stock':
        return happening.run()
      case 'probe':
        return happening.run(atMs)
    }
  }

  private nextPurchaseId(): string {
    this.counters.purchase += 1
    return `${this.tag}-p${String(this.counters.purchase).padStart(6, '0')}`
  }

  /**
   * A customer buys a voucher at a merchant near home. At the suspended merchant the first few
   * attempts are sent to see them refused; the customer then buys elsewhere at once.
   */
  private purchase(atMs: number, customer: Customer): void {
    const rng = this.behaviour
    let merchantId = this.choice.choose(rng, customer.commune, new Set()).body.merchantId
    if (this.model.isSuspended(merchantId)) {
      if (this.checks.suspendedPurchases < suspendedPurchaseChecksMax) {
        this.checks.suspendedPurchases += 1
        this.emitPurchase(atMs, customer, merchantId, { code: 'merchant_suspended' })
      }
      merchantId = this.choice.choose(rng, customer.commune, new Set([merchantId])).body.merchantId
    }
    const purchaseId = this.emitPurchase(atMs, customer, merchantId, null)
    this.planVoucherUse(atMs, purchaseId, customer)
  }

  private emitPurchase(
    atMs: number,
    customer: Customer,
    merchantId: string,
    refusal: ExpectedRefusal | null,
  ): string {
    const purchaseId = this.nextPurchaseId()
    const amountCents = voucherAmountCents(this.behaviour)
    const expected =
      refusal === null
        ? this.model.purchase(purchaseId, merchantId, customer.customerId, amountCents)
        : null
    this.emit({
      kind: 'purchase',
      atMs,
      body: {
        purchaseId,
        programmeId: this.programmeId,
        merchantId,
        customerId: customer.customerId,
        amountCents,
        paymentReference: `psp_${purchaseId}`,
        occurredAt: isoOf(atMs),
      },
      expected,
      refusal,
    })
    return purchaseId
  }

  /** Plans the visits that spend the voucher and its bonus, and maybe a refund request. */
  private planVoucherUse(atMs: number, purchaseId: string, customer: Customer): void {
    const rng = this.behaviour
    const purchase = this.model.purchaseOf(purchaseId)
    if (purchase === undefined) return
    const refundAtMs = rng.chance(Math.max(refundShare, refundsMin / this.options.purchases))
      ? atMs + rng.int(dayMs, refundDelayMsMax)
      : undefined
    const bonusBeforeRefund = refundAtMs !== undefined && rng.chance(refundAfterBonusShare)

    const spent = intendedSpendCents(rng, purchase.amountCents, purchasedSpendShares)
    for (const amountCents of spent > 0 ? visitAmountsCents(rng, spent) : []) {
      this.planVisit(atMs, purchaseId, 'purchased', purchase.merchantId, amountCents)
    }
    const bonusSpent =
      purchase.bonus === null ? 0 : intendedSpendCents(rng, purchase.bonusCents, bonusSpendShares)
    for (const amountCents of bonusSpent > 0 ? visitAmountsCents(rng, bonusSpent) : []) {
      const other = this.choice.choose(rng, customer.commune, new Set([purchase.merchantId]))
      const latestMs = bonusBeforeRefund && refundAtMs !== undefined ? refundAtMs : undefined
      this.planVisit(atMs, purchaseId, 'bonus', other.body.merchantId, amountCents, latestMs)
    }
    if (refundAtMs !== undefined && refundAtMs < this.calendar.seasonEndMs - dayMs) {
      this.agenda.add(nextShopInstantMs(rng, refundAtMs), { kind: 'refund', purchaseId })
    }
  }

  /** One visit to spend part of a voucher, within the season or not at all. */
  private planVisit(
    fromMs: number,
    purchaseId: string,
    voucherKind: VoucherKind,
    merchantId: string,
    amountCents: number,
    beforeMs?: number,
  ): void {
    const rng = this.behaviour
    const untilMs = Math.min(
      fromMs + spendDelayMsMax,
      beforeMs ?? Number.MAX_SAFE_INTEGER,
      this.calendar.seasonEndMs - lastVisitLeadMs,
    )
    const slackMs = Math.max(0, untilMs - fromMs - spendDelayMsMin)
    const wantedMs = fromMs + spendDelayMsMin + rng.int(0, slackMs)
    const atMs = nextShopInstantMs(rng, wantedMs)
    if (atMs > this.calendar.seasonEndMs) return
    this.agenda.add(atMs, { kind: 'redeem', purchaseId, voucherKind, merchantId, amountCents })
  }

  /**
   * A visit to spend a voucher: what remains caps it, a refunded or spent voucher ends it. At
   * the suspended merchant, the first attempts are sent to see them refused; the holder of a
   * purchased voucher then asks for a refund, a bonus is spent at another merchant instead.
   */
  private redeem(atMs: number, visit: Extract<Happening, { kind: 'redeem' }>): void {
    const voucher = this.model.voucherOf(visit.purchaseId, visit.voucherKind)
    if (voucher === null || voucher.status !== 'active') return
    const amountCents = Math.min(visit.amountCents, voucher.remainingCents)
    if (this.model.isSuspended(visit.merchantId)) {
      this.redeemAtSuspended(atMs, visit, amountCents)
      return
    }
    const remainingCents = this.model.redeem(voucher, visit.merchantId, amountCents)
    const expected = { remainingCents }
    this.emitRedemption({ ...visit, atMs, amountCents, expected, refusal: null })
    this.stock.maybeOrder(atMs, visit.merchantId)
  }

  private redeemAtSuspended(
    atMs: number,
    visit: Extract<Happening, { kind: 'redeem' }>,
    amountCents: number,
  ): void {
    const rng = this.behaviour
    if (this.checks.suspendedRedemptions < suspendedRedemptionChecksMax) {
      this.checks.suspendedRedemptions += 1
      const refusal = { code: 'merchant_suspended' }
      this.emitRedemption({ ...visit, atMs, amountCents, expected: null, refusal })
    }
    if (visit.voucherKind === 'purchased') {
      if (this.refundRequested.has(visit.purchaseId)) return
      const refundAtMs = nextShopInstantMs(rng, atMs + rng.int(1, 3) * dayMs)
      if (refundAtMs < this.calendar.seasonEndMs) {
        this.refundRequested.add(visit.purchaseId)
        this.agenda.add(refundAtMs, { kind: 'refund', purchaseId: visit.purchaseId })
      }
      return
    }
    // The customer went to the suspended merchant, so one near it is where they go instead.
    const purchase = this.model.purchaseOf(visit.purchaseId)
    const nearby = this.merchants.find((m) => m.body.merchantId === visit.merchantId)?.commune
    if (purchase === undefined || nearby === undefined) return
    const excluded = new Set([purchase.merchantId, visit.merchantId])
    const other = this.choice.choose(rng, nearby, excluded)
    this.planVisit(atMs, visit.purchaseId, 'bonus', other.body.merchantId, amountCents)
  }

  /** Emits a redemption with what it must answer, or the refusal it must meet. */
  emitRedemption(spend: PlannedSpend): void {
    const { atMs, purchaseId, voucherKind, merchantId, amountCents } = spend
    this.emit({
      kind: 'redeem',
      atMs,
      purchaseId,
      voucherKind,
      body: {
        redemptionId: this.nextRedemptionId(),
        merchantId,
        amountCents,
        occurredAt: isoOf(atMs),
      },
      expected: spend.expected,
      refusal: spend.refusal,
    })
  }

  /** A customer asks for the unredeemed part back: rule 6 decides what each side gets. */
  private refund(atMs: number, purchaseId: string): void {
    if (this.model.refundRefusal(purchaseId) !== null) return
    this.emitRefund(atMs, purchaseId, this.model.refund(purchaseId), null)
  }

  emitRefund(
    atMs: number,
    purchaseId: string,
    expected: ReturnType<LedgerModel['refund']> | null,
    refusal: ExpectedRefusal | null,
  ): void {
    this.counters.refund += 1
    const refundId = `${this.tag}-f${String(this.counters.refund).padStart(5, '0')}`
    this.emit({
      kind: 'refund',
      atMs,
      purchaseId,
      body: { refundId, occurredAt: isoOf(atMs) },
      expected,
      refusal,
    })
  }

  /**
   * Suspends the merchant (of those without an e-shop) whose customers hold the most unspent
   * value, so its suspension is felt: later purchases and redemptions there must be refused,
   * and holders ask for refunds.
   */
  private suspend(atMs: number): void {
    const candidates = this.merchants.filter((m) => !m.clickAndCollect)
    const pool = candidates.length > 0 ? candidates : this.merchants
    const unspent = this.model.unspentPurchasedCentsByMerchant()
    const merchant = pool.reduce((best, m) =>
      (unspent.get(m.body.merchantId) ?? 0) > (unspent.get(best.body.merchantId) ?? 0) ? m : best,
    )
    this.suspendedMerchantId = merchant.body.merchantId
    this.model.suspend(merchant.body.merchantId)
    this.emit({
      kind: 'suspend',
      atMs,
      merchantId: merchant.body.merchantId,
      reason: "Cessation d'activité déclarée au greffe du tribunal de commerce",
    })
  }

  private payoutRun(atMs: number, runId: string): void {
    this.emit({ kind: 'payoutRun', atMs, runId, expected: this.model.runPayouts(runId) })
  }

  /** The processor's notices for a run, delivered together three days later. */
  private settle(atMs: number, runId: string, runAtMs: number): void {
    const run = this.steps.find((step) => step.kind === 'payoutRun' && step.runId === runId)
    if (run === undefined || run.kind !== 'payoutRun' || run.expected.length === 0) return
    const deliveries = settlementDeliveries(
      this.rngOf(`settlement/${runId}`),
      `${runId}-ev`,
      runAtMs,
      run.expected,
    )
    for (const delivery of deliveries) {
      if (delivery.expectedStatus === 'duplicate') continue
      const outcome = delivery.type === 'payout.paid' ? 'paid' : 'failed'
      this.model.notice(runId, delivery.merchantId, outcome, Date.parse(delivery.occurredAt))
    }
    this.emit({ kind: 'settle', atMs, runId, deliveries })
  }

  private emitExpiryRun(atMs: number): void {
    this.emit({
      kind: 'expiryRun',
      atMs,
      programmeId: this.programmeId,
      runId: `${this.tag}-expiry-${isoOf(atMs).slice(0, 10)}`,
      expected: this.model.expire(),
    })
  }
}

/**
 * The sizes a season can have. The smallest still has every feature (a few merchants and
 * purchases); the largest is what the ids are numbered for (four digits of merchants, five of
 * customers, six of purchases).
 */
export const seasonSizeLimits = {
  merchantsMin: 4,
  merchantsMax: 9_999,
  customersMin: 1,
  customersMax: 99_999,
  purchasesMin: 10,
  purchasesMax: 999_999,
} as const

const checkOptions = (options: SeasonOptions): void => {
  const problems: string[] = []
  const within = (name: string, value: number, min: number, max: number) => {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}: a whole number from ${min} to ${max}, not ${value}`)
    }
  }
  const limits = seasonSizeLimits
  within('merchants', options.merchants, limits.merchantsMin, limits.merchantsMax)
  within('customers', options.customers, limits.customersMin, limits.customersMax)
  within('purchases', options.purchases, limits.purchasesMin, limits.purchasesMax)
  within('seed', options.seed, 0, 2 ** 31 - 1)
  if (problems.length > 0) throw new RangeError(problems.join('; '))
}

export type { SeasonGenerator }
