import { eventCodecs, isEventType, type EventType, type LedgerEvent } from '../../domain/events'
import { postingsOf, type Posting } from '../../domain/postings'
import { parisDateOf, type Instant } from '../../domain/time'
import { StoreCorrupted, type EventStore, type RecordedEvent } from '../store/port'
import { logPages } from './source'

/**
 * What every posting export shares: the walk over the log that decodes each event and maps it to
 * its postings, the Europe/Paris date of an instant, the references that name an entry, and the
 * names of merchants, programmes and funders met on the way. Exports are computed from
 * `postingsOf` only, so they agree with the balances and the verification to the cent.
 */

/** One event that moves money, decoded, with its postings. */
export interface MoneyEntry {
  readonly recorded: RecordedEvent
  readonly event: LedgerEvent
  readonly postings: readonly Posting[]
  /** The Europe/Paris calendar date of `occurredAt`, YYYY-MM-DD. */
  readonly date: string
  /** The Europe/Paris calendar date of `recordedAt`, YYYY-MM-DD. */
  readonly recordedDate: string
}

/** Names of the parties, kept as the walk meets their creation events (one entry each). */
export interface PartyNames {
  readonly merchants: Map<string, string>
  readonly programmes: Map<string, string>
  readonly funders: Map<string, string>
}

export const emptyPartyNames = (): PartyNames => ({
  merchants: new Map(),
  programmes: new Map(),
  funders: new Map(),
})

/**
 * Decodes a recorded event with its codec. An export must not quietly skip or misreport an event
 * the ledger cannot read, so one that does not decode stops the export as a corrupted store.
 */
export const decodeRecorded = (recorded: RecordedEvent): LedgerEvent => {
  if (!isEventType(recorded.type) || !eventCodecs[recorded.type].is(recorded.data)) {
    throw new StoreCorrupted(recorded.position, `${recorded.type} does not decode`)
  }
  return { type: recorded.type, data: recorded.data } as LedgerEvent
}

/**
 * Pages of the money-moving events of the log, with their postings, in position order. Events
 * that move no money yield nothing but may name a party in `names`.
 */
export async function* moneyEntryPages(
  store: EventStore,
  names: PartyNames,
): AsyncGenerator<readonly MoneyEntry[], void, undefined> {
  const throughPosition = await store.headPosition()
  const dates = new ParisDates()
  for await (const page of logPages(store, throughPosition)) {
    const entries: MoneyEntry[] = []
    for (const recorded of page) {
      const event = decodeRecorded(recorded)
      rememberNames(event, names)
      const postings = postingsOf(event)
      if (postings.length === 0) continue
      const date = dates.of(recorded.metadata.occurredAt)
      const recordedDate = dates.of(recorded.metadata.recordedAt)
      entries.push({ recorded, event, postings, date, recordedDate })
    }
    if (entries.length > 0) yield entries
  }
}

const rememberNames = (event: LedgerEvent, names: PartyNames): void => {
  if (event.type === 'MerchantRegistered') {
    names.merchants.set(event.data.merchantId, event.data.legalName)
  } else if (event.type === 'ProgrammeCreated') {
    names.programmes.set(event.data.programmeId, event.data.name)
    for (const funder of event.data.funders) names.funders.set(funder.funderId, funder.name)
  }
}

/**
 * Europe/Paris dates of UTC instants, memoised by UTC hour: Paris is always a whole number of
 * hours from UTC, so every instant of one UTC hour falls on the same Paris date, and a season
 * has a few thousand hours where a log has millions of events.
 */
export class ParisDates {
  private readonly byHour = new Map<string, string>()

  of(instant: string): string {
    const hour = instant.slice(0, 13)
    let date = this.byHour.get(hour)
    if (date === undefined) {
      date = parisDateOf(instant as Instant)
      if (this.byHour.size >= parisDateCacheSizeMax) this.byHour.clear()
      this.byHour.set(hour, date)
    }
    return date
  }
}

/** Ten years of hours: more than any log spans, and under a megabyte. */
const parisDateCacheSizeMax = 24 * 366 * 10

/**
 * The ids that name the entry of each money-moving event, the first being its reference (the
 * FEC's `PieceRef`). Customer ids are left out: exports go to finance departments, who account
 * for money, not for people.
 */
const referenceKeys: Partial<Record<EventType, readonly string[]>> = {
  ProgrammeCreated: ['programmeId'],
  ProgrammeBudgetIncreased: ['increaseId', 'programmeId', 'funderId'],
  VoucherPurchased: ['purchaseId', 'programmeId', 'merchantId', 'voucherId'],
  VoucherRedeemed: ['redemptionId', 'programmeId', 'merchantId', 'voucherId', 'kind'],
  PurchaseRefunded: ['refundId', 'programmeId', 'merchantId', 'purchaseId'],
  VoucherExpired: ['runId', 'programmeId', 'merchantId', 'voucherId', 'kind'],
  PayoutScheduled: ['payoutId', 'merchantId', 'runId'],
  PayoutNoticeRecorded: ['payoutId', 'merchantId', 'outcome', 'processorEventId'],
}

/** The reference of an entry: its business id (purchase, redemption, payout...). */
export const referenceOf = (event: LedgerEvent): string => {
  const key = referenceKeys[event.type]?.[0]
  const data = event.data as Record<string, unknown>
  return key === undefined ? event.type : String(data[key])
}

/** A one-line label: the event type and its ids, `VoucherPurchased purchaseId=p1 ...`. */
export const labelOf = (event: LedgerEvent): string => {
  const data = event.data as Record<string, unknown>
  const parts = (referenceKeys[event.type] ?? []).map((key) => `${key}=${String(data[key])}`)
  return [event.type, ...parts].join(' ')
}

/** Free text on one line, for formats where a tab or a line break ends a field or a record. */
export const oneLine = (text: string): string => text.replace(/[\t\r\n]+/g, ' ')

/**
 * Euros from cents with a decimal comma and, optionally, dots between thousands:
 * 125000 is "1250,00", or "1.250,00" grouped. French notation, for hledger and the FEC.
 */
export const frenchEuros = (amountCents: number, grouped: boolean): string => {
  const sign = amountCents < 0 ? '-' : ''
  const absolute = Math.abs(amountCents)
  const euros = String(Math.floor(absolute / 100))
  const rest = String(absolute % 100).padStart(2, '0')
  const integer = grouped ? euros.replace(/\B(?=(\d{3})+(?!\d))/g, '.') : euros
  return `${sign}${integer},${rest}`
}
