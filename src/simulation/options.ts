import { InvalidArgumentError, Option, type Command } from 'commander'
import { seasonSizeLimits } from './generator'
import { defaultSeasonSize, defaultSeed, type SeasonOptions } from './plan'

/**
 * The season flags the simulator and the demo share: the seed, the size (a scale of the
 * default season, or each count on its own) and how many requests may be in flight.
 */
export interface SeasonFlags {
  readonly seed: number
  readonly scale: number
  readonly merchants?: number
  readonly customers?: number
  readonly purchases?: number
  readonly concurrency: number
}

/**
 * Requests in flight at once by default. Purchases and refunds go one at a time whatever this
 * says (they share the programme's stream); redemptions fill the rest, and beyond eight they
 * only queue in the service on a two-core machine.
 */
export const defaultConcurrency = 8

/** More than this many requests in flight only queue in the service. */
const concurrencyMax = 256

const wholeNumber = (name: string, min: number, max: number) => (text: string) => {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name}: a whole number from ${min} to ${max}`)
  }
  return value
}

const positiveNumber = (text: string) => {
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('a number above 0')
  return value
}

const sizeOption = (name: 'merchants' | 'customers' | 'purchases', what: string, usual: number) => {
  const min = seasonSizeLimits[`${name}Min`]
  const max = seasonSizeLimits[`${name}Max`]
  const option = new Option(`--${name} <n>`, `${what} (default ${usual})`)
  return option.argParser(wholeNumber(name, min, max))
}

export const addSeasonFlags = (command: Command): Command =>
  command
    .addOption(
      new Option('--seed <n>', 'the same seed gives the same season')
        .default(defaultSeed)
        .argParser(wholeNumber('seed', 0, 2 ** 31 - 1)),
    )
    .addOption(
      new Option('--scale <factor>', 'size relative to the default season')
        .default(1)
        .argParser(positiveNumber),
    )
    .addOption(sizeOption('merchants', 'merchants that join', defaultSeasonSize.merchants))
    .addOption(sizeOption('customers', 'customers', defaultSeasonSize.customers))
    .addOption(sizeOption('purchases', 'purchases', defaultSeasonSize.purchases))
    .addOption(
      new Option('--concurrency <n>', 'requests in flight at most')
        .default(defaultConcurrency)
        .argParser(wholeNumber('concurrency', 1, concurrencyMax)),
    )

/** The season the flags ask for: each count given wins over the scaled default. */
export const seasonOptionsOf = (flags: SeasonFlags): SeasonOptions => {
  const scaled = (count: number, min: number, max: number) =>
    Math.min(max, Math.max(min, Math.round(count * flags.scale)))
  const limits = seasonSizeLimits
  const { merchants, customers, purchases } = defaultSeasonSize
  return {
    seed: flags.seed,
    merchants: flags.merchants ?? scaled(merchants, limits.merchantsMin, limits.merchantsMax),
    customers: flags.customers ?? scaled(customers, limits.customersMin, limits.customersMax),
    purchases: flags.purchases ?? scaled(purchases, limits.purchasesMin, limits.purchasesMax),
  }
}
