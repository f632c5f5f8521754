import * as t from 'io-ts'

/**
 * Money is an integer number of euro cents. The brand keeps a plain number (a count of items,
 * a position) from being passed where an amount is expected.
 */
export interface CentsBrand {
  readonly Cents: unique symbol
}

/** Any whole number of cents, negative included (a balance after a refund may be negative). */
export const SignedCents = t.brand(
  t.number,
  (n): n is t.Branded<number, CentsBrand> => Number.isSafeInteger(n),
  'Cents',
)
export type Cents = t.TypeOf<typeof SignedCents>

/** A whole number of cents from zero up. */
export const NonNegativeCents = t.refinement(SignedCents, (n) => n >= 0, 'NonNegativeCents')

/** A whole number of cents above zero: what a payment, a redemption or a contribution is. */
export const PositiveCents = t.refinement(SignedCents, (n) => n > 0, 'PositiveCents')

/** Basis points: 10,000 of them make 100 %. The bonus rate of 25 % is 2500. */
export const BasisPoints = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && n >= 0 && n <= basisPointsPerUnit,
  'BasisPoints',
)

export const basisPointsPerUnit = 10_000

/**
 * The largest single amount the ledger takes (a payment, a contribution, a redemption): one
 * hundred million euros, far beyond anything a local voucher scheme moves at once, and small
 * enough that the totals of 900,000 such amounts still add up exactly in a double.
 */
export const amountCentsMax = 10_000_000_000

/**
 * The largest budget of one programme: ten billion euros. Sums of budgets and of everything
 * granted from them stay exact in a double, which every balance and report relies on.
 */
export const budgetCentsMax = 1_000_000_000_000

/** A positive amount not above `amountCentsMax`: what callers may send as one amount. */
export const AmountCents = t.refinement(PositiveCents, (n) => n <= amountCentsMax, 'AmountCents')

/** Zero or more, not above `amountCentsMax`: caps and figures callers may send. */
export const BoundedCents = t.refinement(
  NonNegativeCents,
  (n) => n <= amountCentsMax,
  'BoundedCents',
)

/** Brands a number computed from other amounts; asserts what must hold for any amount. */
export const cents = (n: number): Cents => {
  if (!Number.isSafeInteger(n)) throw new Error(`assertion failed: ${n} is not whole cents`)
  return n as Cents
}

export const zeroCents: Cents = cents(0)

/**
 * The share of an amount at a rate, rounded down to the cent: rounding down never overspends
 * public money. Integer arithmetic only; amounts stay far below 2^53 / 10,000.
 */
export const shareAtRate = (amountCents: Cents, rateBasisPoints: number): Cents =>
  cents(Math.floor((amountCents * rateBasisPoints) / basisPointsPerUnit))

export const minCents = (...amounts: readonly Cents[]): Cents => cents(Math.min(...amounts))
export const maxCents = (...amounts: readonly Cents[]): Cents => cents(Math.max(...amounts))
export const addCents = (a: Cents, b: Cents): Cents => cents(a + b)
export const subtractCents = (a: Cents, b: Cents): Cents => cents(a - b)

/** Formats cents as euros with a dot and two decimals, for humans: 12345 becomes "123.45". */
export const formatEuros = (amountCents: number): string => {
  const sign = amountCents < 0 ? '-' : ''
  const absolute = Math.abs(amountCents)
  const euros = Math.floor(absolute / 100)
  const rest = String(absolute % 100).padStart(2, '0')
  return `${sign}${euros}.${rest}`
}
