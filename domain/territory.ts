/**
 * The scheme's territory as the domain needs it: which grouping a commune belongs to. The shell
 * builds it from the official data (src/app/territory.ts); the domain never loads data itself.
 */
export interface TerritoryCommune {
  readonly communeCode: string
  readonly communeName: string
  readonly groupingSiren: string
  readonly groupingName: string
}

export interface Territory {
  /** The commune with this INSEE code if it belongs to one of the scheme's groupings. */
  communeOf(communeCode: string): TerritoryCommune | undefined
}
