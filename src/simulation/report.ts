import Table from 'cli-table3'
import type { LedgerClient } from './client'
import type { ExpectedFigures } from './plan'

/**
 * The end of a season: the funding report read back from the ledger, held to the identities of
 * API.md and to the figures the simulator's own bookkeeping predicts, and shown as tables.
 */
export interface FundingReport {
  readonly programmeId: string
  readonly name?: string
  readonly validFrom?: string
  readonly validUntil?: string
  readonly budgetCents: number
  readonly bonusGrantedCents: number
  readonly bonusRedeemedCents: number
  readonly bonusExpiredCents: number
  readonly bonusReducedCents: number
  readonly bonusRecoveredCents: number
  readonly bonusOutstandingCents: number
  readonly budgetAvailableCents: number
  readonly purchaseCount: number
  readonly purchaseCents: number
  readonly refundedCents: number
  readonly purchasedRedeemedCents: number
  readonly purchasedExpiredCents: number
  readonly paidOutCents: number
  readonly inFlightCents?: number
  readonly owedCents: number
  readonly leverage: number | null
  readonly funders?: readonly { funderId: string; name?: string; contributionCents?: number }[]
  readonly byGrouping: readonly BreakdownRow[]
  readonly byCommune: readonly BreakdownRow[]
  readonly byCategory: readonly BreakdownRow[]
  readonly asOfPosition: number
}

export interface BreakdownRow {
  readonly groupingName?: string
  readonly communeName?: string
  readonly communeCode?: string
  readonly category?: string
  readonly merchantCount?: number
  readonly tradingMerchantCount?: number
  readonly purchaseCount: number
  readonly purchaseCents: number
  readonly bonusRedeemedCents: number
}

/** The report once the projections have caught up with `minPosition`. */
export const fetchReport = async (
  client: LedgerClient,
  programmeId: string,
  minPosition: number,
): Promise<{ report: FundingReport | null; problem: string | null }> => {
  const path = `/v1/programmes/${programmeId}/report?minPosition=${minPosition}`
  const answer = await client.get(path)
  if (answer.status !== 200) {
    return { report: null, problem: `GET ${path} answered ${answer.status}: ${answer.text}` }
  }
  return { report: answer.body as unknown as FundingReport, problem: null }
}

/** The two identities API.md says the report satisfies at every position; a line per breach. */
export const identityProblems = (report: FundingReport): string[] => {
  const problems: string[] = []
  const accounted =
    report.bonusRedeemedCents +
    report.bonusOutstandingCents +
    report.bonusExpiredCents +
    report.bonusReducedCents
  if (report.bonusGrantedCents !== accounted) {
    problems.push(
      `bonusGrantedCents ${report.bonusGrantedCents} != redeemed + outstanding + expired + ` +
        `reduced = ${accounted}`,
    )
  }
  const available =
    report.budgetCents -
    report.bonusGrantedCents +
    report.bonusExpiredCents +
    report.bonusReducedCents +
    report.bonusRecoveredCents
  if (report.budgetAvailableCents !== available) {
    problems.push(
      `budgetAvailableCents ${report.budgetAvailableCents} != budget - granted + expired + ` +
        `reduced + recovered = ${available}`,
    )
  }
  return problems
}

/** Every figure where the ledger and the simulator's bookkeeping disagree. */
export const figureProblems = (report: FundingReport, expected: ExpectedFigures): string[] =>
  Object.entries(expected)
    .filter(([field, value]) => (report as unknown as Record<string, unknown>)[field] !== value)
    .map(([field, value]) => {
      const actual = (report as unknown as Record<string, unknown>)[field]
      return `${field}: the ledger reports ${String(actual)}, the season's rules give ${value}`
    })

/** Communes shown in the summary, by number of purchases. */
export const topCommunesShown = 10

/** The report as tables for a terminal: the figures, the funders, groupings and top communes. */
export const renderReport = (report: FundingReport, identityOk: boolean): string => {
  const figures = plainTable([`Funding report: ${report.name ?? report.programmeId}`, ''])
  figures.push(
    ['Validity', `${report.validFrom ?? '?'} to ${report.validUntil ?? '?'}`],
    ['Budget (three groupings)', euros(report.budgetCents)],
    ['Bonus granted', euros(report.bonusGrantedCents)],
    ['Bonus redeemed at merchants', euros(report.bonusRedeemedCents)],
    ['Bonus expired (back to the budget)', euros(report.bonusExpiredCents)],
    ['Bonus reduced by refunds', euros(report.bonusReducedCents)],
    ['Bonus recovered by refunds', euros(report.bonusRecoveredCents)],
    ['Bonus outstanding', euros(report.bonusOutstandingCents)],
    ['Budget available', euros(report.budgetAvailableCents)],
    ['Purchases', `${report.purchaseCount} for ${euros(report.purchaseCents)}`],
    ['Refunded (unredeemed part)', euros(report.refundedCents)],
    ['Purchased vouchers redeemed', euros(report.purchasedRedeemedCents)],
    ['Purchased vouchers expired (breakage)', euros(report.purchasedExpiredCents)],
    ['Paid out to merchants', euros(report.paidOutCents)],
    ['Owed to merchants', euros(report.owedCents)],
    ['Leverage (local euros per public euro)', leverageText(report.leverage)],
    ['Identities of API.md', identityOk ? 'hold' : 'BROKEN'],
  )
  return [figures.toString(), groupingTable(report), communeTable(report)].join('\n')
}

const groupingTable = (report: FundingReport): string => {
  const table = plainTable(['Grouping', 'Merchants', 'Purchases', 'Purchase money', 'Bonus spent'])
  for (const row of report.byGrouping) {
    table.push([
      row.groupingName ?? '?',
      String(row.tradingMerchantCount ?? row.merchantCount ?? ''),
      String(row.purchaseCount),
      euros(row.purchaseCents),
      euros(row.bonusRedeemedCents),
    ])
  }
  return table.toString()
}

const communeTable = (report: FundingReport): string => {
  const table = plainTable([
    `Top ${topCommunesShown} communes`,
    'INSEE',
    'Purchases',
    'Purchase money',
    'Bonus spent',
  ])
  const top = [...report.byCommune]
    .sort((a, b) => b.purchaseCount - a.purchaseCount || codeOrder(a, b))
    .slice(0, topCommunesShown)
  for (const row of top) {
    table.push([
      row.communeName ?? '?',
      row.communeCode ?? '',
      String(row.purchaseCount),
      euros(row.purchaseCents),
      euros(row.bonusRedeemedCents),
    ])
  }
  return table.toString()
}

/** A table without colours, so the output reads the same in a terminal, a pipe or a log. */
const plainTable = (head: string[]) =>
  new Table({
    head,
    style: { head: [], border: [] },
    colAligns: head.map((_, i) => (i === 0 ? 'left' : 'right')),
  })

const leverageText = (leverage: number | null): string =>
  leverage === null ? 'n/a' : leverage.toFixed(2)

const codeOrder = (a: BreakdownRow, b: BreakdownRow): number =>
  (a.communeCode ?? '').localeCompare(b.communeCode ?? '')

/** Cents as euros with thousands separators: 12,345.67 €. */
export const euros = (amountCents: number): string => {
  const sign = amountCents < 0 ? '-' : ''
  const absolute = Math.abs(amountCents)
  const whole = Math.floor(absolute / 100).toLocaleString('en-US')
  return `${sign}${whole}.${String(absolute % 100).padStart(2, '0')} €`
}
