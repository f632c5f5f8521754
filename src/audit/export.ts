import { stringify } from 'csv-stringify/sync'
import iconv from 'iconv-lite'
import { formatEuros } from '../../domain/money'
import type { EventStore, RecordedEvent } from '../store/port'
import { fecAccountOf } from './fec-accounts'
import {
  emptyPartyNames,
  frenchEuros,
  labelOf,
  moneyEntryPages,
  oneLine,
  referenceOf,
  type MoneyEntry,
  type PartyNames,
} from './ledger-walk'
import { logPages } from './source'

/**
 * Exports of the whole ledger for auditors and finance departments (DOMAIN.md, Accounting).
 * Each is an async iterable of chunks produced a page of the log at a time, so memory stays flat
 * (beyond one name per merchant, programme and funder) whatever the size of the log, and an HTTP
 * response or a file can be fed from it with backpressure.
 */
export const exportFormats = ['ndjson', 'csv', 'hledger', 'fec'] as const
export type ExportFormat = (typeof exportFormats)[number]

export const isExportFormat = (format: string): format is ExportFormat =>
  (exportFormats as readonly string[]).includes(format)

/** The media type each export is served as; the FEC is Latin-9, the others UTF-8. */
export const exportMediaTypes: Readonly<Record<ExportFormat, string>> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  hledger: 'text/plain; charset=utf-8',
  fec: 'text/tab-separated-values; charset=iso-8859-15',
}

/** The file name each export is offered under (the FEC's legal name needs the SIREN). */
export const exportFileNames: Readonly<Record<ExportFormat, string>> = {
  ndjson: 'ledger.ndjson',
  csv: 'ledger-postings.csv',
  hledger: 'ledger.journal',
  fec: 'ledger-fec.txt',
}

/** The chunks of one export of the store's log, up to its head when the export starts. */
export const exportLedger = (
  store: EventStore,
  format: ExportFormat,
): AsyncIterable<string | Buffer> => {
  switch (format) {
    case 'ndjson':
      return ndjsonExport(store)
    case 'csv':
      return csvExport(store)
    case 'hledger':
      return hledgerExport(store)
    case 'fec':
      return fecExport(store)
  }
}

// ---- ndjson ----

/**
 * Every event on a line, with everything the verifier needs to recheck it elsewhere: position,
 * stream, revision, id, type, data and the full metadata (the hashes included, and repeated at
 * the top level as in `GET /v1/ledger/events`). `recordedEventOfNdjson` reads a line back.
 */
export async function* ndjsonExport(store: EventStore): AsyncGenerator<string, void, undefined> {
  const throughPosition = await store.headPosition()
  for await (const page of logPages(store, throughPosition)) {
    let chunk = ''
    for (const event of page) chunk += `${JSON.stringify(ndjsonRecordOf(event))}\n`
    yield chunk
  }
}

const ndjsonRecordOf = (event: RecordedEvent) => ({
  position: event.position,
  streamId: event.streamId,
  revision: event.revision,
  eventId: event.eventId,
  type: event.type,
  occurredAt: event.metadata.occurredAt,
  recordedAt: event.metadata.recordedAt,
  hash: event.metadata.hash,
  previousHash: event.metadata.previousHash,
  data: event.data,
  metadata: event.metadata,
})

/** A line of the ndjson export back as the recorded event it was written from. */
export const recordedEventOfNdjson = (line: string): RecordedEvent => {
  const record = JSON.parse(line) as RecordedEvent
  return {
    position: record.position,
    streamId: record.streamId,
    revision: record.revision,
    eventId: record.eventId,
    type: record.type,
    data: record.data,
    metadata: record.metadata,
  }
}

// ---- csv ----

/** The columns of the postings CSV: one row per posting, debit and credit apart. */
export const csvColumns = [
  'position',
  'date',
  'eventId',
  'type',
  'account',
  'debitCents',
  'creditCents',
  'debitEuros',
  'creditEuros',
] as const

/**
 * The postings as CSV (RFC 4180, comma separated, UTF-8), dated in Europe/Paris. Cents are
 * exact; the euro columns repeat them with a decimal point for spreadsheets.
 */
export async function* csvExport(store: EventStore): AsyncGenerator<string, void, undefined> {
  yield stringify([csvColumns])
  for await (const entries of moneyEntryPages(store, emptyPartyNames())) {
    const rows: (string | number)[][] = []
    for (const entry of entries) {
      for (const posting of entry.postings) {
        const debitCents = Math.max(posting.amountCents, 0)
        const creditCents = Math.max(-posting.amountCents, 0)
        rows.push([
          entry.recorded.position,
          entry.date,
          entry.recorded.eventId,
          entry.recorded.type,
          posting.account,
          debitCents,
          creditCents,
          formatEuros(debitCents),
          formatEuros(creditCents),
        ])
      }
    }
    yield stringify(rows)
  }
}

// ---- hledger ----

/**
 * A plain-text journal that hledger (1.25 and later) reads and balances to the same figures:
 * one transaction per money-moving event, dated by `occurredAt` in Europe/Paris, its code the
 * log position, its description the event type and ids, its accounts those of the postings
 * (each merchant's under `merchants:<merchantId>`). Amounts are French, `1.250,00 EUR`, which
 * the `decimal-mark ,` directive at the top makes unambiguous to hledger.
 */
export async function* hledgerExport(store: EventStore): AsyncGenerator<string, void, undefined> {
  yield [
    '; Moselle Sud local voucher scheme: the postings of the ledger, one transaction per event',
    '; that moves money, dated in Europe/Paris; the code in parentheses is the log position.',
    'decimal-mark ,',
    'commodity 1.000,00 EUR',
    '',
    '',
  ].join('\n')
  for await (const entries of moneyEntryPages(store, emptyPartyNames())) {
    let chunk = ''
    for (const entry of entries) chunk += hledgerTransactionOf(entry)
    yield chunk
  }
}

const hledgerTransactionOf = (entry: MoneyEntry): string => {
  const { recorded } = entry
  let text = `${entry.date} (${recorded.position}) ${labelOf(entry.event)}`
  text += `  ; event:${recorded.eventId}, stream:${recorded.streamId}\n`
  for (const posting of entry.postings) {
    text += `    ${posting.account}  ${frenchEuros(posting.amountCents, true)} EUR\n`
  }
  return `${text}\n`
}

// ---- FEC ----

/** The 18 columns of the fichier des écritures comptables, legal names in legal order. */
export const fecColumns = [
  'JournalCode',
  'JournalLib',
  'EcritureNum',
  'EcritureDate',
  'CompteNum',
  'CompteLib',
  'CompAuxNum',
  'CompAuxLib',
  'PieceRef',
  'PieceDate',
  'EcritureLib',
  'Debit',
  'Credit',
  'EcritureLet',
  'DateLet',
  'ValidDate',
  'Montantdevise',
  'Idevise',
] as const

/** One journal for the whole scheme: every entry is an operation on vouchers and their money. */
const fecJournal = { code: 'BONS', label: "Bons d'achat et bonus Moselle Sud" }

/**
 * The FEC layout (article A47 A-1 of the Livre des procédures fiscales): tab separated,
 * ISO 8859-15, one line per posting, one entry (`EcritureNum`, numbered 1, 2, 3... in log order)
 * per money-moving event, dates AAAAMMJJ, amounts with a decimal comma, accounts mapped to the
 * PCG by `fec-accounts.ts`. `EcritureDate` and `PieceDate` are when it happened, `ValidDate`
 * when the ledger recorded it. Amounts are in euros, the currency of account, so the two
 * currency columns and the two lettering columns stay empty.
 */
export async function* fecExport(store: EventStore): AsyncGenerator<Buffer, void, undefined> {
  yield encodeLatin9(`${fecColumns.join('\t')}\r\n`)
  const names = emptyPartyNames()
  let entryNumber = 0
  for await (const entries of moneyEntryPages(store, names)) {
    let chunk = ''
    for (const entry of entries) {
      entryNumber += 1
      chunk += fecLinesOf(entry, entryNumber, names)
    }
    yield encodeLatin9(chunk)
  }
}

const fecLinesOf = (entry: MoneyEntry, entryNumber: number, names: PartyNames): string => {
  const date = compactDate(entry.date)
  const validDate = compactDate(entry.recordedDate)
  const pieceRef = oneLine(referenceOf(entry.event))
  const label = oneLine(labelOf(entry.event))
  let lines = ''
  for (const posting of entry.postings) {
    const account = fecAccountOf(posting.account)
    const auxiliary = account.auxiliary
    const fields = [
      fecJournal.code,
      fecJournal.label,
      String(entryNumber),
      date,
      account.compteNum,
      account.compteLib,
      auxiliary === undefined ? '' : oneLine(auxiliary.id),
      auxiliary === undefined ? '' : oneLine(auxiliaryNameOf(auxiliary, names)),
      pieceRef,
      date,
      label,
      frenchEuros(Math.max(posting.amountCents, 0), false),
      frenchEuros(Math.max(-posting.amountCents, 0), false),
      '',
      '',
      validDate,
      '',
      '',
    ]
    lines += `${fields.join('\t')}\r\n`
  }
  return lines
}

const auxiliaryNameOf = (
  auxiliary: { kind: 'merchant' | 'funder' | 'programme'; id: string },
  names: PartyNames,
): string => {
  const byKind = { merchant: names.merchants, funder: names.funders, programme: names.programmes }
  return byKind[auxiliary.kind].get(auxiliary.id) ?? auxiliary.id
}

/** YYYY-MM-DD as the FEC's AAAAMMJJ. */
const compactDate = (date: string): string => date.replace(/-/g, '')

/**
 * Latin-9 rather than Latin-1 because it has the euro sign. Characters it lacks (curly quotes,
 * emoji in a trade name) become "?", which the FEC's encoding cannot avoid.
 */
const encodeLatin9 = (text: string): Buffer => iconv.encode(text, 'ISO-8859-15')
