import * as t from 'io-ts'
import { DateTime } from 'luxon'

/**
 * Calendar dates and validity in Europe/Paris. The domain never reads a clock: instants come in
 * with commands. Luxon only does calendar arithmetic with the time zone database here.
 */
export const schemeTimeZone = 'Europe/Paris'

export const datePattern = /^\d{4}-\d{2}-\d{2}$/
export const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

export interface CalendarDateBrand {
  readonly CalendarDate: unique symbol
}

/**
 * Luxon with a time zone costs tens of microseconds a call, and the same few dates (programme
 * validities, vouchers' last days) are checked on every purchase, every redemption and every
 * event a verification or a replay decodes: a third of a verification's time went there. Each
 * date's answer is kept; the map is emptied when full, so callers sending many distinct dates
 * cannot grow it without bound.
 */
const dateAnswersMax = 4_096

const memoisedByDate = <T>(compute: (date: string) => T): ((date: string) => T) => {
  const answers = new Map<string, T>()
  return (date) => {
    const known = answers.get(date)
    if (known !== undefined) return known
    const answer = compute(date)
    if (answers.size >= dateAnswersMax) answers.clear()
    answers.set(date, answer)
    return answer
  }
}

const isRealDate = memoisedByDate((s) => DateTime.fromISO(s, { zone: schemeTimeZone }).isValid)

/** A real calendar date written YYYY-MM-DD (2026-02-30 is refused). */
export const CalendarDate = t.brand(
  t.string,
  (s): s is t.Branded<string, CalendarDateBrand> => datePattern.test(s) && isRealDate(s),
  'CalendarDate',
)
export type CalendarDate = t.TypeOf<typeof CalendarDate>

export interface InstantBrand {
  readonly Instant: unique symbol
}

/**
 * An instant in UTC, ISO 8601 with a Z, to the millisecond at most, and a real one: Date.parse
 * rolls 2026-02-30 over to March, so the parsed instant must give back the same fields.
 */
export const Instant = t.brand(
  t.string,
  (s): s is t.Branded<string, InstantBrand> => {
    if (!instantPattern.test(s)) return false
    const epochMs = Date.parse(s)
    return !Number.isNaN(epochMs) && new Date(epochMs).toISOString().slice(0, 19) === s.slice(0, 19)
  },
  'Instant',
)
export type Instant = t.TypeOf<typeof Instant>

/** Normalises an instant to the millisecond form `Date.toISOString` writes. */
export const instantOf = (epochMs: number): Instant => new Date(epochMs).toISOString() as Instant

export const epochMsOf = (instant: Instant): number => Date.parse(instant)

/** The first instant of a calendar day in Europe/Paris, in epoch milliseconds. */
export const startOfDayMs: (date: CalendarDate) => number = memoisedByDate((date) =>
  DateTime.fromISO(date, { zone: schemeTimeZone }).startOf('day').toMillis(),
)

/**
 * The last valid instant of a calendar day in Europe/Paris, in epoch milliseconds:
 * 2020-12-31 ends at 2020-12-31T22:59:59.999Z.
 */
export const endOfDayMs: (date: CalendarDate) => number = memoisedByDate((date) =>
  DateTime.fromISO(date, { zone: schemeTimeZone }).endOf('day').toMillis(),
)

/** The Europe/Paris calendar date an instant falls on. */
export const parisDateOf = (instant: Instant): CalendarDate =>
  DateTime.fromMillis(epochMsOf(instant), { zone: schemeTimeZone }).toISODate() as CalendarDate

/** Whether an instant is at or before the end of a validity day (inclusive, Europe/Paris). */
export const isWithinValidity = (instant: Instant, validUntil: CalendarDate): boolean =>
  epochMsOf(instant) <= endOfDayMs(validUntil)
