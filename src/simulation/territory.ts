import epcis from '@etalab/decoupage-administratif/data/epci.json'
import { schemeGroupingSirens, territoryCommunes } from '../app/territory'

/**
 * The places of a simulated season, from the same official data the ledger checks merchants
 * against: the communes of the three groupings with their population (merchants and customers
 * are spread by it), and communes of neighbouring groupings for applicants who are outside the
 * territory and must be refused.
 */
export interface SimulatedCommune {
  readonly communeCode: string
  readonly communeName: string
  readonly groupingSiren: string
  readonly groupingName: string
  readonly population: number
}

/** A funder of the programme: one grouping, with what it gives in proportion to population. */
export interface SimulatedGrouping {
  readonly groupingSiren: string
  readonly groupingName: string
  readonly population: number
}

interface EpciMember {
  readonly code: string
  readonly nom: string
  readonly populationMunicipale?: number
  readonly populationTotale?: number
}

interface EpciRecord {
  readonly code: string
  readonly nom: string
  readonly populationTotale?: number
  readonly membres: readonly EpciMember[]
}

const records = epcis as readonly EpciRecord[]

/**
 * A commune the official data gives no population for still has a few people: one keeps it
 * drawable without letting it weigh anything.
 */
const populationMin = 1

const populationByCode = (): ReadonlyMap<string, number> => {
  const byCode = new Map<string, number>()
  for (const record of records) {
    for (const member of record.membres) {
      const population = member.populationMunicipale ?? member.populationTotale ?? populationMin
      byCode.set(member.code, Math.max(population, populationMin))
    }
  }
  return byCode
}

/** Every commune of the territory with its population, in the order of the official data. */
export const simulatedCommunes = (): readonly SimulatedCommune[] => {
  const populations = populationByCode()
  return territoryCommunes().map((commune) => ({
    ...commune,
    population: populations.get(commune.communeCode) ?? populationMin,
  }))
}

/** The three groupings with their populations, from the communes that belong to them. */
export const simulatedGroupings = (
  communes: readonly SimulatedCommune[],
): readonly SimulatedGrouping[] =>
  schemeGroupingSirens.map((siren) => {
    const members = communes.filter((commune) => commune.groupingSiren === siren)
    const first = members[0]
    if (first === undefined) throw new Error(`assertion failed: grouping ${siren} has no commune`)
    return {
      groupingSiren: siren,
      groupingName: first.groupingName,
      population: members.reduce((sum, commune) => sum + commune.population, 0),
    }
  })

/** Moselle's INSEE department code: neighbours are taken from the same department. */
const moselleDepartmentCode = '57'

/** Neighbouring communes kept for ineligible applicants: enough variety, none in the territory. */
const outsideCommunesMax = 40

/**
 * Communes of Moselle that belong to other groupings (Metz, Sarreguemines, Forbach...), the
 * largest first: applicants from there are refused because the commune is outside the
 * territory.
 */
export const outsideCommunes = (): readonly SimulatedCommune[] => {
  const scheme = new Set<string>(schemeGroupingSirens)
  const outside: SimulatedCommune[] = []
  for (const record of records) {
    if (scheme.has(record.code)) continue
    for (const member of record.membres) {
      if (!member.code.startsWith(moselleDepartmentCode)) continue
      outside.push({
        communeCode: member.code,
        communeName: member.nom,
        groupingSiren: record.code,
        groupingName: record.nom,
        population: member.populationMunicipale ?? populationMin,
      })
    }
  }
  return outside
    .sort((a, b) => b.population - a.population || a.communeCode.localeCompare(b.communeCode))
    .slice(0, outsideCommunesMax)
}
