import t from 'tap'
import {
  annualTurnoverLimitCents,
  employeesMax,
  passesLuhn,
  salesAreaLimitM2,
} from '../../domain/merchant'
import { territoryCommunes } from '../../src/app/territory'
import { maxBonusPerCustomerCents } from '../../src/simulation/behaviour'
import { seasonCalendar } from '../../src/simulation/calendar'
import { generateSeason } from '../../src/simulation/generator'
import {
  defaultSeasonSize,
  seasonTag,
  type PurchaseStep,
  type RedeemStep,
  type SeasonPlan,
  type Step,
} from '../../src/simulation/plan'

/**
 * The season generator on its own: the same seed gives the same plan, and what it plans obeys
 * the scheme's rules (DOMAIN.md) as an independent tally of the plan sees them: caps and budget,
 * spends within what remains, refunds by rule 6, stock never negative, eligibility, settlement.
 */
const small = { seed: 7, merchants: 8, customers: 40, purchases: 120 }
const plans: readonly SeasonPlan[] = [
  generateSeason(small),
  generateSeason({ ...small, seed: 2026, merchants: 15, customers: 200, purchases: 600 }),
  generateSeason({ seed: 2026, ...defaultSeasonSize }),
]

const accepted = (step: Step): boolean => !('refusal' in step) || step.refusal === null
const ofKind = <K extends Step['kind']>(plan: SeasonPlan, kind: K) =>
  plan.steps.filter((step): step is Extract<Step, { kind: K }> => step.kind === kind)

t.test('the same seed gives the same plan, another seed another one', async (t) => {
  t.equal(JSON.stringify(generateSeason(small)), JSON.stringify(plans[0]))
  t.not(JSON.stringify(generateSeason({ ...small, seed: 8 })), JSON.stringify(plans[0]))
  t.equal(seasonTag({ seed: 2026, ...defaultSeasonSize }), 's2026')
  t.equal(seasonTag(small), 's7-8m40c120p', 'another size is another season, with its own ids')
})

t.test('steps are in time order, in the past, and ids are never reused', async (t) => {
  const realNowMs = Date.parse('2026-12-03T00:00:00Z')
  for (const plan of plans) {
    const order = plan.steps.map((step) => step.atMs)
    t.ok(order.every((ms, i) => i === 0 || ms >= (order[i - 1] ?? 0)), 'time order')
    t.ok(order.every((ms) => ms < realNowMs), 'every instant is before today')
    const ids = plan.steps.flatMap((step) => {
      if (step.kind === 'purchase') return [step.body.purchaseId]
      if (step.kind === 'redeem') return [step.body.redemptionId]
      if (step.kind === 'refund') return [step.body.refundId]
      if (step.kind === 'moveStock') return [step.body.movementId]
      return []
    })
    t.equal(new Set(ids).size, ids.length, 'ids unique')
  }
})

t.test('every write states its instant: funding, then merchants, sales, the expiry', async (t) => {
  const { seasonStartMs, seasonEndMs } = seasonCalendar()
  for (const plan of plans) {
    for (const step of plan.steps) {
      if ('body' in step && step.body.occurredAt !== new Date(step.atMs).toISOString()) {
        t.fail(`${step.kind} at ${step.atMs} states ${step.body.occurredAt}`)
      }
    }
    const [programme] = ofKind(plan, 'createProgramme')
    const registrations = ofKind(plan, 'registerMerchant').map((step) => step.atMs)
    const firstSaleMs = Math.min(...ofKind(plan, 'purchase').map((step) => step.atMs))
    t.ok((programme?.atMs ?? Infinity) < Math.min(...registrations), 'programme first')
    t.ok(Math.max(...registrations) < seasonStartMs, 'merchants before the season opens')
    t.ok(firstSaleMs >= seasonStartMs, 'no sale before it opens')
    const [expiry] = ofKind(plan, 'expiryRun')
    t.ok((expiry?.atMs ?? 0) > seasonEndMs, 'the expiry run after 31 December, Paris time')
  }
})

t.test('bonuses respect the rate, the per-customer cap and the budget', async (t) => {
  for (const plan of plans) {
    const netByCustomer = new Map<string, number>()
    const customerOf = new Map<string, string>()
    let grantedCents = 0
    for (const step of plan.steps) {
      let customer: string | undefined
      if (step.kind === 'purchase' && step.expected !== null) {
        const bonusCents = step.expected.bonusCents
        if (bonusCents > Math.floor((step.body.amountCents * 2500) / 10_000)) t.fail('above 25 %')
        customer = step.body.customerId
        customerOf.set(step.body.purchaseId, customer)
        netByCustomer.set(customer, (netByCustomer.get(customer) ?? 0) + bonusCents)
        grantedCents += bonusCents
      }
      if (step.kind === 'refund' && step.expected !== null) {
        customer = customerOf.get(step.purchaseId) ?? ''
        const released = step.expected.bonusReducedCents + step.expected.deductedCents
        netByCustomer.set(customer, (netByCustomer.get(customer) ?? 0) - released)
        grantedCents -= released
      }
      const net = customer === undefined ? 0 : (netByCustomer.get(customer) ?? 0)
      if (net > maxBonusPerCustomerCents) t.fail(`${customer} above the cap`)
      if (grantedCents > plan.expectedFigures.budgetCents) t.fail(`budget overspent`)
    }
    const reduced = ofKind(plan, 'purchase').filter((p) => p.expected?.bonusReduced === true)
    t.ok(reduced.length > 0, 'some bonuses are reduced by the cap or the budget')
  }
})

t.test('spends stay within what remains, at the right merchant, in the validity', async (t) => {
  const { seasonStartMs, seasonEndMs } = seasonCalendar()
  for (const plan of plans) {
    const value = new Map<string, number>()
    const purchases = new Map<string, PurchaseStep>()
    const refunded = new Set<string>()
    for (const step of plan.steps) {
      if (step.kind === 'purchase' && step.expected !== null) {
        purchases.set(step.body.purchaseId, step)
        value.set(`${step.body.purchaseId}/purchased`, step.body.amountCents)
        value.set(`${step.body.purchaseId}/bonus`, step.expected.bonusCents)
        if (step.atMs < seasonStartMs || step.atMs > seasonEndMs) t.fail('bought outside validity')
      }
      if (step.kind === 'refund' && step.expected !== null) {
        refunded.add(step.purchaseId)
        const key = `${step.purchaseId}/bonus`
        value.set(key, (value.get(key) ?? 0) - step.expected.bonusReducedCents)
      }
      if (step.kind !== 'redeem' || !accepted(step)) continue
      checkSpend(t, step, purchases, value, refunded)
      if (step.atMs < seasonStartMs || step.atMs > seasonEndMs) t.fail('spent outside validity')
    }
  }
})

const checkSpend = (
  t: { fail: (message: string) => void },
  step: RedeemStep,
  purchases: ReadonlyMap<string, PurchaseStep>,
  value: Map<string, number>,
  refunded: ReadonlySet<string>,
) => {
  const purchase = purchases.get(step.purchaseId)
  const key = `${step.purchaseId}/${step.voucherKind}`
  const left = (value.get(key) ?? 0) - step.body.amountCents
  value.set(key, left)
  if (left < 0) t.fail(`${key} overspent`)
  if (left !== step.expected?.remainingCents) t.fail(`${key} remainder ${left}`)
  const atOwn = step.body.merchantId === purchase?.body.merchantId
  if (step.voucherKind === 'purchased' && !atOwn) t.fail(`${key} spent at another merchant`)
  if (step.voucherKind === 'bonus' && atOwn) t.fail(`${key} spent at its own merchant`)
  if (step.voucherKind === 'purchased' && refunded.has(step.purchaseId)) {
    t.fail(`${key} spent after its refund`)
  }
}

t.test('refunds follow rule 6, and some come after the bonus was spent', async (t) => {
  for (const plan of plans) {
    const spent = new Map<string, number>()
    const purchases = new Map<string, PurchaseStep>()
    let recoveredCount = 0
    for (const step of plan.steps) {
      if (step.kind === 'purchase' && step.expected !== null) {
        purchases.set(step.body.purchaseId, step)
      }
      if (step.kind === 'redeem' && accepted(step)) {
        const key = `${step.purchaseId}/${step.voucherKind}`
        spent.set(key, (spent.get(key) ?? 0) + step.body.amountCents)
      }
      if (step.kind !== 'refund' || step.expected === null) continue
      const purchase = purchases.get(step.purchaseId)
      if (purchase === undefined || purchase.expected === null) continue
      const redeemed = spent.get(`${step.purchaseId}/purchased`) ?? 0
      const bonusSpent = spent.get(`${step.purchaseId}/bonus`) ?? 0
      const bonus = purchase.expected.bonusCents
      const entitlement = Math.min(Math.floor((redeemed * 2500) / 10_000), bonus)
      const recovered = Math.max(0, bonusSpent - entitlement)
      const unspent = bonus - bonusSpent
      const cancelled = unspent - Math.min(Math.max(0, entitlement - bonusSpent), unspent)
      t.same(step.expected, {
        refundedCents: purchase.body.amountCents - redeemed - recovered,
        bonusReducedCents: cancelled,
        deductedCents: recovered,
      })
      if (recovered > 0) recoveredCount += 1
    }
    t.ok(recoveredCount > 0, 'a refund recovers bonus spent before it')
  }
})

t.test('applicants: eligible ones within limits and territory, others refused', async (t) => {
  const territory = new Set(territoryCommunes().map((c) => c.communeCode))
  for (const plan of plans) {
    const applications = ofKind(plan, 'registerMerchant')
    t.ok(applications.some((a) => a.refusal !== null), 'some applicants are refused')
    for (const { body, refusal } of applications) {
      if (!passesLuhn(body.siret) || body.siret.length !== 14) t.fail(`${body.siret} is no SIRET`)
      const failed = [
        body.employees > employeesMax ? 'employees' : '',
        body.salesAreaM2 >= salesAreaLimitM2 ? 'salesAreaM2' : '',
        body.annualTurnoverCents >= annualTurnoverLimitCents ? 'annualTurnoverCents' : '',
        territory.has(body.communeCode) ? '' : 'communeCode',
      ].filter((field) => field !== '')
      t.same(refusal?.fields ?? [], failed, `${body.merchantId} refused for what it fails`)
    }
  }
})

t.test('stock never goes negative but for the one oversell planned to be refused', async (t) => {
  for (const plan of plans) {
    const levels = new Map<string, { onHand: number; reserved: number }>()
    const moves = ofKind(plan, 'moveStock')
    t.equal(moves.filter((m) => m.refusal?.code === 'insufficient_stock').length, 1)
    for (const move of moves.filter(accepted)) {
      const key = `${move.merchantId}/${move.body.sku}`
      const level = levels.get(key) ?? { onHand: 0, reserved: 0 }
      const { kind, quantity } = move.body
      if (kind === 'received' || kind === 'adjusted') level.onHand += quantity
      if (kind === 'reserved') level.reserved += quantity
      if (kind === 'released') level.reserved -= quantity
      if (kind === 'sold') {
        level.onHand -= quantity
        level.reserved -= Math.min(level.reserved, quantity)
      }
      if (level.reserved < 0 || level.onHand < level.reserved) t.fail(`${key} oversold`)
      const { onHand, reserved } = level
      if (move.expected?.onHand !== onHand || move.expected.reserved !== reserved) {
        t.fail(`${key} levels planned wrong`)
      }
      levels.set(key, level)
    }
    t.ok(new Set(moves.map((m) => m.body.kind)).size === 5, 'every kind of movement')
  }
})

t.test('the processor repeats and reorders notices; each is recorded once', async (t) => {
  for (const plan of plans) {
    const deliveries = ofKind(plan, 'settle').flatMap((s) => s.deliveries.map((d) => ({ s, d })))
    const seen = new Set<string>()
    for (const { s, d } of deliveries) {
      if (d.expectedStatus !== (seen.has(d.eventId) ? 'duplicate' : 'recorded')) t.fail('status')
      seen.add(d.eventId)
      if (Date.parse(d.occurredAt) > s.atMs) t.fail('a notice delivered before it happened')
    }
    t.ok(deliveries.some(({ d }) => d.expectedStatus === 'duplicate'), 'some are delivered twice')
    t.ok(deliveries.some(({ d }) => d.type === 'payout.failed'), 'some payouts fail')
  }
})

t.test('one merchant is suspended mid-season and refusals are planned after it', async (t) => {
  for (const plan of plans) {
    const [suspension] = ofKind(plan, 'suspend')
    t.equal(suspension?.merchantId, plan.suspendedMerchantId)
    const refusedAfter = plan.steps.filter(
      (step) =>
        'refusal' in step &&
        step.refusal?.code === 'merchant_suspended' &&
        step.atMs >= (suspension?.atMs ?? Infinity),
    )
    t.ok(refusedAfter.length > 0, 'refusals planned at the suspended merchant')
    const laterAccepted = plan.steps.filter(
      (step) =>
        (step.kind === 'purchase' || step.kind === 'redeem') &&
        accepted(step) &&
        step.body.merchantId === plan.suspendedMerchantId &&
        step.atMs >= (suspension?.atMs ?? Infinity),
    )
    t.equal(laterAccepted.length, 0, 'nothing accepted there after the suspension')
  }
})

t.test('the expected figures satisfy the identities of API.md', async (t) => {
  for (const { expectedFigures: f } of plans) {
    t.equal(
      f.bonusGrantedCents,
      f.bonusRedeemedCents + f.bonusOutstandingCents + f.bonusExpiredCents + f.bonusReducedCents,
    )
    t.equal(
      f.budgetAvailableCents,
      f.budgetCents -
        f.bonusGrantedCents +
        f.bonusExpiredCents +
        f.bonusReducedCents +
        f.bonusRecoveredCents,
    )
    t.equal(f.bonusOutstandingCents, 0, 'nothing outstanding after the expiry run')
  }
})
