import { DateTime } from 'luxon'
import type { Rng } from './random'

/**
 * The calendar of a simulated season, in Europe/Paris as the scheme's validity is. The season
 * simulated is the one of 2025: every instant of it, the expiry run after 31 December included,
 * is in the past, and the ledger refuses an operator's `occurredAt` in the future.
 */
export const schemeTimeZone = 'Europe/Paris'

/** Milliseconds in a minute, an hour and a day, for offsets in the plan. */
export const minuteMs = 60_000
export const hourMs = 60 * minuteMs
export const dayMs = 24 * hourMs

/** The season's dates: the programme's validity and the days around it the simulator uses. */
export interface SeasonCalendar {
  readonly validFrom: string
  readonly validUntil: string
  /** Merchants apply and the programme is set up during the weeks before the season. */
  readonly setupStartMs: number
  readonly seasonStartMs: number
  /** The last valid instant of `validUntil` in Europe/Paris. */
  readonly seasonEndMs: number
  /** After the end of validity: the expiry run, then the last payout run. */
  readonly expiryRunMs: number
  readonly finalPayoutRunMs: number
}

/** The season the simulator plays: November and December 2025. */
export const seasonYear = 2025

export const seasonCalendar = (year: number = seasonYear): SeasonCalendar => {
  const parisDay = (month: number, day: number, y = year) =>
    DateTime.fromObject({ year: y, month, day }, { zone: schemeTimeZone })
  return {
    validFrom: `${year}-11-01`,
    validUntil: `${year}-12-31`,
    setupStartMs: parisDay(10, 13).set({ hour: 9 }).toMillis(),
    seasonStartMs: parisDay(11, 1).toMillis(),
    seasonEndMs: parisDay(12, 31).endOf('day').toMillis(),
    expiryRunMs: parisDay(1, 2, year + 1).set({ hour: 7 }).toMillis(),
    finalPayoutRunMs: parisDay(1, 5, year + 1).set({ hour: 6 }).toMillis(),
  }
}

/** One day of the season with how many vouchers the web shop sells on it, relatively. */
export interface SeasonDay {
  readonly startMs: number
  readonly weight: number
}

/** The launch: the first days draw this many times the usual custom, fading over a week. */
const launchRushFactor = 4
const launchRushDays = 8

/** Christmas shopping: the fortnight before the 24th draws this many times the usual custom. */
const christmasFactor = 1.8
const christmasFirstDay = 10
const christmasLastDay = 24

/** People buy vouchers online more at the weekend, when they plan their shopping. */
const weekendFactor = 1.3

/** The web shop's busy hours, in minutes after midnight: 7:00 to 23:00. */
const webFirstMinute = 7 * 60
const webLastMinute = 23 * 60

/** The shops' hours, in minutes after midnight: 8:30 to 19:30. */
const openingMinute = 8 * 60 + 30
const closingMinute = 19 * 60 + 30

/**
 * Days the shops are shut besides Sundays, as month-day: All Saints, Armistice, Christmas, New
 * Year, and 26 December (Saint-Étienne), a public holiday in Moselle under local law.
 */
const holidayMonthDays = ['11-01', '11-11', '12-25', '12-26', '01-01']

/** The days from 1 November to 31 December with their weights: a launch rush, then Christmas. */
export const seasonDays = (calendar: SeasonCalendar): readonly SeasonDay[] => {
  const days: SeasonDay[] = []
  let day = DateTime.fromMillis(calendar.seasonStartMs, { zone: schemeTimeZone }).startOf('day')
  for (let index = 0; day.toMillis() <= calendar.seasonEndMs; index += 1) {
    let weight = 1
    if (index < launchRushDays) {
      weight *= 1 + ((launchRushFactor - 1) * (launchRushDays - index)) / launchRushDays
    }
    if (day.month === 12 && day.day >= christmasFirstDay && day.day <= christmasLastDay) {
      weight *= christmasFactor
    }
    if (day.weekday >= 6) weight *= weekendFactor
    days.push({ startMs: day.toMillis(), weight })
    day = day.plus({ days: 1 })
  }
  return days
}

/**
 * An instant on the web shop on a day, to the second: when a customer buys a voucher. Counted
 * from midnight, which is exact on the season's days (clocks change in March and October).
 */
export const webShopInstantMs = (rng: Rng, dayStartMs: number): number => {
  const day = parisDayOf(dayStartMs)
  const minute = rng.int(webFirstMinute, webLastMinute - 1)
  return day.startMs + minute * minuteMs + rng.int(0, 59) * 1000
}

/** The next instant in shop hours at or after `ms`: a customer comes back when shops open. */
export const nextShopInstantMs = (rng: Rng, ms: number): number => {
  let day = parisDayOf(ms)
  if (day.open && ms >= day.openingMs && ms < day.closingMs) return ms
  if (!day.open || ms >= day.closingMs) day = parisDayOf(day.endMs)
  while (!day.open) day = parisDayOf(day.endMs)
  const minute = rng.int(openingMinute, closingMinute - 1)
  return Math.max(ms, day.openingMs + (minute - openingMinute) * minuteMs + rng.int(0, 59) * 1000)
}

/** The Monday mornings of the season's weekly payout runs, before the final one. */
export const weeklyPayoutRunsMs = (calendar: SeasonCalendar): readonly number[] => {
  const runs: number[] = []
  let monday = DateTime.fromMillis(calendar.seasonStartMs, { zone: schemeTimeZone })
    .startOf('week')
    .plus({ weeks: 1 })
    .set({ hour: 6 })
  while (monday.toMillis() < calendar.seasonEndMs) {
    runs.push(monday.toMillis())
    monday = monday.plus({ weeks: 1 })
  }
  return runs
}

/** The ISO 8601 UTC form the API takes, to the millisecond. */
export const isoOf = (ms: number): string => new Date(ms).toISOString()

/** A Paris day: its bounds, whether shops open, and their hours (counted from the opening). */
interface ParisDay {
  readonly startMs: number
  readonly endMs: number
  readonly open: boolean
  readonly openingMs: number
  readonly closingMs: number
}

/**
 * Days already worked out, in order. Luxon's time zone arithmetic is slow enough to dominate a
 * season of twenty thousand steps, and a season touches only about a hundred days.
 */
const knownDays: ParisDay[] = []

/** The Paris day an instant falls in. */
const parisDayOf = (ms: number): ParisDay => {
  let low = 0
  let high = knownDays.length - 1
  let before = -1
  while (low <= high) {
    const middle = (low + high) >> 1
    if ((knownDays[middle]?.startMs ?? Infinity) <= ms) {
      before = middle
      low = middle + 1
    } else {
      high = middle - 1
    }
  }
  const known = knownDays[before]
  if (known !== undefined && ms < known.endMs) return known

  const start = DateTime.fromMillis(ms, { zone: schemeTimeZone }).startOf('day')
  const at = (minute: number) =>
    start.set({ hour: Math.floor(minute / 60), minute: minute % 60 }).toMillis()
  const day: ParisDay = {
    startMs: start.toMillis(),
    endMs: start.plus({ days: 1 }).toMillis(),
    open: start.weekday !== 7 && !holidayMonthDays.includes(start.toFormat('MM-dd')),
    openingMs: at(openingMinute),
    closingMs: at(closingMinute),
  }
  knownDays.splice(before + 1, 0, day)
  return day
}
