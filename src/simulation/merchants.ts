import { merchantCategories, type MerchantCategory } from '../../domain/events'
import {
  annualTurnoverLimitCents,
  employeesMax,
  passesLuhn,
  salesAreaLimitM2,
} from '../../domain/merchant'
import type { MerchantBody } from './plan'
import type { Rng } from './random'
import type { SimulatedCommune } from './territory'

/**
 * The businesses that apply to the scheme: small shops, restaurants, bars, cafés, tourism and
 * services of the territory, sized like such businesses are, and a share of applicants that
 * fail one or more criteria (too many employees, too large a sales area, too high a turnover,
 * a commune outside the three groupings) and must be refused with every failed criterion.
 */
export interface Applicant {
  readonly body: MerchantBody
  readonly commune: SimulatedCommune
  readonly category: MerchantCategory
  /** The eligibility fields the ledger must list in `errors`; empty for an eligible business. */
  readonly failedFields: readonly string[]
  /** Whether it runs a click & collect e-shop whose stock moves through the ledger. */
  readonly clickAndCollect: boolean
  /** How much custom it draws, relative to other merchants: grows with its size. */
  readonly attractiveness: number
}

/** About one applicant in eight is refused, as in schemes of this kind. */
export const ineligibleShare = 0.12

/** The share of each category among participating merchants. */
const categoryWeights: Readonly<Record<MerchantCategory, number>> = {
  retail: 30,
  food: 18,
  restaurant: 15,
  bar: 8,
  cafe: 7,
  tourism: 7,
  services: 15,
}

/** Sales area of each category in m2, lowest and highest; services have almost none. */
const salesAreaRangeM2: Readonly<Record<MerchantCategory, readonly [number, number]>> = {
  retail: [25, 420],
  food: [30, 350],
  restaurant: [60, 280],
  bar: [40, 160],
  cafe: [30, 120],
  tourism: [0, 200],
  services: [0, 90],
}

/** Categories that sell goods an e-shop can hold in stock. */
const stockedCategories: readonly MerchantCategory[] = ['retail', 'food']

/** The share of stocked businesses that run click & collect through the scheme's back office. */
const clickAndCollectShare = 0.35

const namePrefixes: Readonly<Record<MerchantCategory, readonly string[]>> = {
  retail: ['Librairie', 'Quincaillerie', 'Boutique', 'Fleurs', 'Optique', 'Mercerie', 'Jouets'],
  food: ['Boulangerie', 'Boucherie', 'Fromagerie', 'Épicerie', 'Pâtisserie', 'Cave'],
  restaurant: ['Restaurant', 'Auberge', 'Brasserie', 'Pizzeria', 'Winstub'],
  bar: ['Bar', 'Le Comptoir', 'Taverne'],
  cafe: ['Café', 'Salon de thé', 'Café-tabac'],
  tourism: ['Gîte', 'Hôtel', 'Chambres d’hôtes', 'Location de vélos'],
  services: ['Coiffure', 'Institut de beauté', 'Cordonnerie', 'Pressing', 'Garage'],
}

/** Family names common in the Moselle countryside, for trade names. */
const familyNames = [
  'Muller', 'Schmitt', 'Weber', 'Klein', 'Meyer', 'Hoffmann', 'Schneider', 'Becker', 'Wagner',
  'Fischer', 'Bauer', 'Koch', 'Richard', 'Martin', 'Thomas', 'Zimmermann', 'Lang', 'Roth',
  'Kieffer', 'Gross', 'Jung', 'Wolff', 'Simon', 'Marchal', 'Humbert', 'Lorentz', 'Dieudonné',
]

/** Eligible and ineligible applicants, their ids numbered in the order they apply. */
export const planApplicants = (
  rng: Rng,
  tag: string,
  communes: readonly SimulatedCommune[],
  outside: readonly SimulatedCommune[],
  eligibleCount: number,
): Applicant[] => {
  const ineligibleCount = Math.max(1, Math.round(eligibleCount * ineligibleShare))
  const kinds = rng.shuffled([
    ...Array.from({ length: eligibleCount }, () => false),
    ...Array.from({ length: ineligibleCount }, () => true),
  ])
  const applicants = kinds.map((ineligible, index) => {
    const merchantId = `${tag}-m${String(index + 1).padStart(4, '0')}`
    const eligible = eligibleApplicant(rng, merchantId, communes)
    return ineligible ? madeIneligible(rng, eligible, outside) : eligible
  })
  return withAShop(applicants)
}

/**
 * A season with no click & collect shop would leave stock out; in a small one the first
 * eligible retailer or grocer (or else the first eligible merchant) opens one.
 */
const withAShop = (applicants: Applicant[]): Applicant[] => {
  const eligible = applicants.filter((a) => a.failedFields.length === 0)
  if (eligible.some((a) => a.clickAndCollect)) return applicants
  const chosen = eligible.find((a) => stockedCategories.includes(a.category)) ?? eligible[0]
  return applicants.map((a) => (a === chosen ? { ...a, clickAndCollect: true } : a))
}

/** Communes draw merchants a little less than in proportion to population: villages have some. */
const communeWeightExponent = 0.85

const eligibleApplicant = (
  rng: Rng,
  merchantId: string,
  communes: readonly SimulatedCommune[],
): Applicant => {
  const commune = rng.weighted(communes, (c) => c.population ** communeWeightExponent)
  const category = rng.weighted(merchantCategories, (c) => categoryWeights[c])
  const employees = Math.min(employeesMax, 1 + Math.floor(rng.unit() ** 2.5 * 24))
  const [areaLowM2, areaHighM2] = salesAreaRangeM2[category]
  const salesAreaM2 = Math.min(salesAreaLimitM2 - 1, rng.int(areaLowM2, areaHighM2))
  const turnoverPerEmployeeCents = rng.int(6_000_000, 14_000_000)
  const annualTurnoverCents = Math.min(
    annualTurnoverLimitCents - 100_000,
    employees * turnoverPerEmployeeCents,
  )
  const body: MerchantBody = {
    merchantId,
    legalName: tradeName(rng, category, commune),
    siret: siretOf(rng),
    communeCode: commune.communeCode,
    category,
    employees,
    salesAreaM2,
    annualTurnoverCents,
  }
  return {
    body,
    commune,
    category,
    failedFields: [],
    clickAndCollect: stockedCategories.includes(category) && rng.chance(clickAndCollectShare),
    attractiveness: 1 + Math.sqrt(employees),
  }
}

/** The criteria an ineligible applicant can fail, each a way of being too big or elsewhere. */
type Failure = 'employees' | 'salesAreaM2' | 'annualTurnoverCents' | 'communeCode'

const failures: readonly Failure[] = [
  'employees',
  'salesAreaM2',
  'annualTurnoverCents',
  'communeCode',
]

/** One applicant in four that fails fails two criteria: a big business is big every way. */
const secondFailureShare = 0.25

const madeIneligible = (
  rng: Rng,
  applicant: Applicant,
  outside: readonly SimulatedCommune[],
): Applicant => {
  const first = rng.pick(failures)
  const failed = new Set<Failure>([first])
  if (rng.chance(secondFailureShare)) failed.add(rng.pick(failures))

  let body: MerchantBody = applicant.body
  let commune = applicant.commune
  if (failed.has('employees')) body = { ...body, employees: rng.int(employeesMax + 1, 120) }
  if (failed.has('salesAreaM2')) body = { ...body, salesAreaM2: rng.int(salesAreaLimitM2, 2_400) }
  if (failed.has('annualTurnoverCents')) {
    body = { ...body, annualTurnoverCents: rng.int(annualTurnoverLimitCents, 900_000_000) }
  }
  if (failed.has('communeCode')) {
    commune = rng.pick(outside)
    body = { ...body, communeCode: commune.communeCode }
  }
  return {
    ...applicant,
    body,
    commune,
    failedFields: failures.filter((field) => failed.has(field)),
    clickAndCollect: false,
  }
}

const tradeName = (rng: Rng, category: MerchantCategory, commune: SimulatedCommune): string => {
  const prefix = rng.pick(namePrefixes[category])
  return rng.chance(0.6)
    ? `${prefix} ${rng.pick(familyNames)}`
    : `${prefix} de ${commune.communeName}`
}

/**
 * A SIRET that passes the Luhn check, as every real one does: a SIREN (eight random digits and
 * its Luhn digit), then an establishment number 0001 to 0009 and the digit that makes all
 * fourteen pass.
 */
export const siretOf = (rng: Rng): string => {
  const sirenBody = String(rng.int(10_000_000, 99_999_999))
  const siren = `${sirenBody}${luhnCheckDigit(sirenBody)}`
  const nicBody = `000${rng.int(1, 9)}`
  return `${siren}${nicBody}${luhnCheckDigit(`${siren}${nicBody}`)}`
}

/** The digit that, appended, makes `digits` pass the Luhn check. */
export const luhnCheckDigit = (digits: string): number => {
  for (let check = 0; check <= 9; check += 1) if (passesLuhn(`${digits}${check}`)) return check
  throw new Error('assertion failed: some digit always completes a Luhn number')
}
