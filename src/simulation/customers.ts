import type { Applicant } from './merchants'
import { weightTable, type Rng, type WeightTable } from './random'
import type { SimulatedCommune } from './territory'

/**
 * The scheme's customers: residents of the territory, each with a home commune drawn by
 * population and an appetite that decides how many vouchers they buy. They shop mostly in
 * their own commune, then in their grouping, seldom elsewhere.
 */
export interface Customer {
  readonly customerId: string
  readonly commune: SimulatedCommune
  /** How many purchases this customer makes in the season. */
  readonly purchaseCount: number
}

/**
 * Customers with their purchase counts: everyone buys once, and the rest of the purchases go
 * to customers in proportion to a skewed appetite (a few buy many vouchers, most one to three).
 */
export const planCustomers = (
  rng: Rng,
  tag: string,
  communes: readonly SimulatedCommune[],
  customerCount: number,
  purchaseCount: number,
): Customer[] => {
  const buyers = Math.min(customerCount, purchaseCount)
  const counts = Array.from({ length: buyers }, () => 1)
  const appetites = counts.map(() => 1 / (0.15 + rng.unit()))
  const table = weightTable(
    counts.map((_, index) => index),
    (index) => appetites[index] ?? 0,
  )
  for (let extra = buyers; extra < purchaseCount; extra += 1) {
    const index = rng.pickFromTable(table)
    counts[index] = (counts[index] ?? 0) + 1
  }
  const communeTable = weightTable(communes, (commune) => commune.population)
  return counts.map((count, index) => ({
    customerId: `${tag}-c${String(index + 1).padStart(5, '0')}`,
    commune: rng.pickFromTable(communeTable),
    purchaseCount: count,
  }))
}

/** How much more a customer shops in their own commune, and in their grouping, than elsewhere. */
const sameCommuneFactor = 12
const sameGroupingFactor = 2.5
const elsewhereFactor = 0.4

/**
 * For each commune, the weighted choice of a merchant by its customers: made once per commune
 * and reused for every purchase and bonus spend of its residents.
 */
export class MerchantChoice {
  private readonly tables = new Map<string, WeightTable<Applicant>>()

  constructor(private readonly merchants: readonly Applicant[]) {}

  /** A merchant for a customer of `commune`, never one of `excluded`. */
  choose(rng: Rng, commune: SimulatedCommune, excluded: ReadonlySet<string>): Applicant {
    const table = this.tableOf(commune)
    for (let attempt = 0; attempt < choiceAttemptsMax; attempt += 1) {
      const merchant = rng.pickFromTable(table)
      if (!excluded.has(merchant.body.merchantId)) return merchant
    }
    const allowed = this.merchants.filter((m) => !excluded.has(m.body.merchantId))
    return rng.pick(allowed)
  }

  private tableOf(commune: SimulatedCommune): WeightTable<Applicant> {
    let table = this.tables.get(commune.communeCode)
    if (table === undefined) {
      table = weightTable(this.merchants, (merchant) => {
        const locality =
          merchant.commune.communeCode === commune.communeCode
            ? sameCommuneFactor
            : merchant.commune.groupingSiren === commune.groupingSiren
              ? sameGroupingFactor
              : elsewhereFactor
        return merchant.attractiveness * locality
      })
      this.tables.set(commune.communeCode, table)
    }
    return table
  }
}

/** Draws before falling back to a plain pick among the merchants not excluded. */
const choiceAttemptsMax = 20
