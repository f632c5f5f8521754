import { dayMs, hourMs, isoOf } from './calendar'
import type { ProcessorDelivery } from './plan'
import { weightTable, type Rng } from './random'

/**
 * How the people of a season behave, as numbers: what vouchers cost, how much of them gets
 * spent and in how many visits, how often a customer asks for a refund, how the processor
 * settles payouts. Each share is a plain constant with the reason for its value.
 */

/** Voucher values on offer in euros, and how often each is chosen; 50 euros is the favourite. */
const voucherValuesEuros = [10, 15, 20, 25, 30, 40, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300]
const voucherValueWeights = [6, 3, 16, 6, 12, 6, 20, 4, 5, 2, 11, 2, 3, 2, 1, 1]

const centsPerEuro = 100

/** A voucher value in cents, from the values the web shop offers. */
export const voucherAmountCents = (rng: Rng): number =>
  rng.pickFromTable(voucherValueTable) * centsPerEuro

const voucherValueTable = weightTable(
  voucherValuesEuros,
  (euros) => voucherValueWeights[voucherValuesEuros.indexOf(euros)] ?? 0,
)

/** The programme's voucher limits: the web shop sells from 10 to 300 euros. */
export const minVoucherCents = 10 * centsPerEuro
export const maxVoucherCents = 300 * centsPerEuro

/** The scheme's bonus: 25 %, stored in basis points. */
export const bonusRateBasisPoints = 2_500

/** A customer receives at most 50 euros of bonus in a season: spreads public money over many. */
export const maxBonusPerCustomerCents = 50 * centsPerEuro

/**
 * Budget per planned purchase: below the average bonus asked (about 11.50 euros once the cap
 * bites), so the budget runs dry in the Christmas weeks and late bonuses are reduced, as happens
 * to real schemes; refunds then give a little back to the last buyers.
 */
export const budgetPerPurchaseCents = 1_000

/** Of a purchased voucher, the shares spent in full, in part (the rest expires), or never. */
export const purchasedSpendShares = { full: 0.8, partial: 0.14 } as const

/** Bonus vouchers are spent less faithfully than the money people paid for. */
export const bonusSpendShares = { full: 0.76, partial: 0.1 } as const

/** The share of purchases refunded on request. */
export const refundShare = 0.025

/** Of refunded purchases, the share whose bonus the customer spent before asking the refund. */
export const refundAfterBonusShare = 0.6

/** Spends happen from 20 minutes to 30 days after the purchase; refunds within 25 days. */
export const spendDelayMsMin = 20 * 60_000
export const spendDelayMsMax = 30 * dayMs
export const refundDelayMsMax = 25 * dayMs

/** The number of visits a voucher is spent in: one, two or three; most go in one. */
const visitWeights = [65, 25, 10]

/** The amounts of the visits that spend `totalCents`, each at least a euro, to ten cents. */
export const visitAmountsCents = (rng: Rng, totalCents: number): number[] => {
  const maxVisits = Math.max(1, Math.min(visitWeights.length, Math.floor(totalCents / 100)))
  const visits = 1 + rng.weighted(
    visitWeights.slice(0, maxVisits).map((_, i) => i),
    (i) => visitWeights[i] ?? 0,
  )
  const cuts = new Set<number>()
  for (let attempt = 0; cuts.size < visits - 1 && attempt < visits * 4; attempt += 1) {
    const cut = Math.round(rng.int(100, totalCents - 100) / 10) * 10
    if (cut > 0 && cut < totalCents) cuts.add(cut)
  }
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), totalCents]
  return bounds.slice(1).map((bound, i) => bound - (bounds[i] ?? 0)).filter((cents) => cents > 0)
}

/** What of a voucher the customer means to spend, by the shares above. */
export const intendedSpendCents = (
  rng: Rng,
  valueCents: number,
  shares: { readonly full: number; readonly partial: number },
): number => {
  const draw = rng.unit()
  if (draw < shares.full) return valueCents
  if (draw < shares.full + shares.partial) {
    return Math.max(1, Math.floor((valueCents * rng.int(30, 95)) / 100))
  }
  return 0
}

// ---- stock ----

/** Articles a click & collect shop of each kind puts online. */
export const skuNames = {
  retail: ['livre-jeunesse', 'jeu-en-bois', 'bougie-artisanale', 'echarpe-laine', 'carnet-vosges'],
  food: ['coffret-mirabelle', 'pate-lorrain', 'panier-garni', 'miel-saulnois', 'biere-locale'],
} as const

/** Articles per shop, and the stock each starts the season with and is restocked to. */
export const skusPerShopMax = 3
export const stockTargetMin = 15
export const stockTargetMax = 60

/** Of redemptions at a click & collect shop, the share that comes with an online order. */
export const clickAndCollectOrderShare = 0.4

/** Of online orders, the share collected; the rest is released after a few days. */
export const pickupShare = 0.75

/** Of weekly restocks, the share that also records an inventory adjustment. */
export const adjustmentShare = 0.12

/** A reservation no shop can meet, whatever it received: the oversell the ledger must refuse. */
export const oversellQuantity = 100_000

// ---- processor ----

/** Of payouts, the share the bank pays, refuses at once, or pays and then returns. */
export const payoutOutcomeShares = { paid: 0.9, failed: 0.06 } as const

/** The share of notices the processor delivers twice. */
export const duplicateDeliveryShare = 0.25

const failureReasons = [
  'account closed',
  'invalid IBAN',
  'beneficiary name mismatch',
  'account blocked by the bank',
]

/** The processor's notices arrive three days after a run, in any order. */
export const settlementDelayMs = 3 * dayMs

/**
 * The processor's deliveries for a run's payouts: a notice per payout (two when the bank pays
 * then returns it), some delivered twice, all shuffled. The first delivery of a notice must be
 * recorded and a repeat answered as a duplicate.
 */
export const settlementDeliveries = (
  rng: Rng,
  eventPrefix: string,
  runAtMs: number,
  payouts: readonly { readonly merchantId: string }[],
): ProcessorDelivery[] => {
  const notices: Omit<ProcessorDelivery, 'expectedStatus'>[] = []
  payouts.forEach(({ merchantId }, index) => {
    const eventId = (n: number) => `${eventPrefix}-${index + 1}-${n}`
    const paidAtMs = runAtMs + dayMs + rng.int(0, 8) * hourMs
    const draw = rng.unit()
    const reason = rng.pick(failureReasons)
    if (draw < payoutOutcomeShares.paid) {
      notices.push(notice(eventId(1), 'payout.paid', merchantId, paidAtMs, null))
    } else if (draw < payoutOutcomeShares.paid + payoutOutcomeShares.failed) {
      notices.push(notice(eventId(1), 'payout.failed', merchantId, paidAtMs, reason))
    } else {
      notices.push(notice(eventId(1), 'payout.paid', merchantId, paidAtMs, null))
      notices.push(notice(eventId(2), 'payout.failed', merchantId, paidAtMs + dayMs, 'returned'))
    }
  })
  const copies = notices.flatMap((n) => (rng.chance(duplicateDeliveryShare) ? [n, n] : [n]))
  const seen = new Set<string>()
  return rng.shuffled(copies).map((delivery) => {
    const expectedStatus = seen.has(delivery.eventId) ? 'duplicate' : 'recorded'
    seen.add(delivery.eventId)
    return { ...delivery, expectedStatus }
  })
}

const notice = (
  eventId: string,
  type: ProcessorDelivery['type'],
  merchantId: string,
  atMs: number,
  reason: string | null,
): Omit<ProcessorDelivery, 'expectedStatus'> => ({
  eventId,
  type,
  merchantId,
  occurredAt: isoOf(atMs),
  reason,
})
