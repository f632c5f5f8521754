import { createHash } from 'node:crypto'
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import {
  xoroshiro128plus,
  type JumpableRandomGenerator,
} from 'pure-rand/generator/xoroshiro128plus'

/**
 * The simulator's only source of chance: a xoroshiro128+ generator from pure-rand, seeded from
 * the season's seed and a label. Each concern (merchants, customers, the purchases, one payout
 * run's settlement) draws from its own labelled stream, so a change in how one is drawn does
 * not shift every number after it, and the same seed always gives the same season.
 */
export class Rng {
  private readonly generator: JumpableRandomGenerator

  private constructor(seed32: number) {
    this.generator = xoroshiro128plus(seed32)
  }

  /** The stream of `label` under `seed`: the same pair always gives the same numbers. */
  static of(seed: number, label: string): Rng {
    const digest = createHash('sha256').update(`${seed}/${label}`).digest()
    return new Rng(digest.readInt32BE(0))
  }

  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    if (max < min) throw new Error(`assertion failed: empty range ${min}..${max}`)
    return uniformInt(this.generator, min, max)
  }

  /** A number in [0, 1). */
  unit(): number {
    return uniformFloat64(this.generator)
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    return this.unit() < probability
  }

  /** One element, each equally likely. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)]
    if (item === undefined) throw new Error('assertion failed: pick from an empty list')
    return item
  }

  /** One element, each as likely as its weight; weights need not sum to one. */
  weighted<T>(items: readonly T[], weightOf: (item: T) => number): T {
    return this.pickFromTable(weightTable(items, weightOf))
  }

  /** One element of a table made once by `weightTable`, for repeated draws from one list. */
  pickFromTable<T>(table: WeightTable<T>): T {
    const target = this.unit() * table.totalWeight
    let low = 0
    let high = table.cumulative.length - 1
    while (low < high) {
      const middle = (low + high) >> 1
      if ((table.cumulative[middle] ?? 0) > target) high = middle
      else low = middle + 1
    }
    const item = table.items[low]
    if (item === undefined) throw new Error('assertion failed: pick from an empty table')
    return item
  }

  /** The items in a new random order (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items]
    for (let index = copy.length - 1; index > 0; index -= 1) {
      const other = this.int(0, index)
      const item = copy[index] as T
      copy[index] = copy[other] as T
      copy[other] = item
    }
    return copy
  }
}

/** Items with their running weight totals, so a weighted draw is a binary search. */
export interface WeightTable<T> {
  readonly items: readonly T[]
  readonly cumulative: readonly number[]
  readonly totalWeight: number
}

/** Builds the table of a weighted draw; items of weight zero are never drawn. */
export const weightTable = <T>(
  items: readonly T[],
  weightOf: (item: T) => number,
): WeightTable<T> => {
  const kept: T[] = []
  const cumulative: number[] = []
  let totalWeight = 0
  for (const item of items) {
    const weight = weightOf(item)
    if (!(weight > 0)) continue
    totalWeight += weight
    kept.push(item)
    cumulative.push(totalWeight)
  }
  if (kept.length === 0) {
    throw new Error('assertion failed: a weighted draw needs a positive weight')
  }
  return { items: kept, cumulative, totalWeight }
}
