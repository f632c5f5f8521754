import epcis from '@etalab/decoupage-administratif/data/epci.json'
import type { Territory, TerritoryCommune } from '../../domain/territory'

/**
 * The scheme's territory from the official data: the communes that are members of the three
 * groupings (EPCI) of southern Moselle, with their INSEE codes and names. The groupings are
 * named by their SIREN codes; the communes are never typed by hand.
 */
export const schemeGroupingSirens = [
  '200068146', // CC Sarrebourg Moselle Sud
  '245701206', // CC du Saulnois
  '245700950', // CC du Pays de Phalsbourg
] as const

interface EpciRecord {
  readonly code: string
  readonly nom: string
  readonly membres: readonly { readonly code: string; readonly nom: string }[]
}

/** Every commune of the territory, in the order of the official data. */
export const territoryCommunes = (): readonly TerritoryCommune[] => {
  const records = epcis as readonly EpciRecord[]
  return schemeGroupingSirens.flatMap((siren) => {
    const grouping = records.find((record) => record.code === siren)
    if (grouping === undefined) {
      throw new Error(`assertion failed: grouping ${siren} missing from the official data`)
    }
    return grouping.membres.map((member) => ({
      communeCode: member.code,
      communeName: member.nom,
      groupingSiren: grouping.code,
      groupingName: grouping.nom,
    }))
  })
}

/** The territory as the domain asks for it: which grouping, if any, a commune belongs to. */
export const loadTerritory = (): Territory => {
  const byCode = new Map(territoryCommunes().map((commune) => [commune.communeCode, commune]))
  return { communeOf: (code) => byCode.get(code) }
}
