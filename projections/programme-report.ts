import type { Cents } from '../domain/money'
import { cents, zeroCents } from '../domain/money'
import type { MerchantDoc } from './merchants'
import type { MerchantBalanceDoc } from './merchant-balances'
import type { FunderFigures, ProgrammeMerchantDoc, ProgrammeTotalsDoc } from './programme-figures'

/**
 * The funding report of `GET /v1/programmes/:id/report`, assembled from three read models at
 * query time: the programme's figures, the merchants directory (names and places) and the
 * merchants' balances (payouts). Pure: the runner passes the documents in.
 *
 * Payouts are made per merchant, not per programme, so `paidOutCents`, `inFlightCents` and
 * `owedCents` are the totals over the programme's merchants (those with a purchase or a bonus
 * redemption in it). With one programme per season, as the scheme runs, that is exact; while
 * two programmes share merchants, each report shows those merchants' whole payouts, and the sum
 * over programmes counts them more than once.
 */

/** The figures of each row of a breakdown by grouping, commune or category. */
export interface BreakdownFigures {
  /** Merchants registered in the scheme there (registration is not per programme). */
  readonly merchantCount: number
  /** Of those, the ones with a purchase or a bonus redemption in this programme. */
  readonly tradingMerchantCount: number
  readonly purchaseCount: number
  readonly purchaseCents: Cents
  readonly refundedCents: Cents
  /** Bonus vouchers spent at merchants there: where the public money went. */
  readonly bonusRedeemedCents: Cents
  readonly purchasedRedeemedCents: Cents
  readonly purchasedExpiredCents: Cents
}

/** A row of `byGrouping`: one grouping (EPCI) of the territory, named by its SIREN. */
export interface GroupingRow extends BreakdownFigures {
  readonly groupingSiren: string
  readonly groupingName: string
}

/** A row of `byCommune`: one commune by INSEE code, with the grouping it belongs to. */
export interface CommuneRow extends BreakdownFigures {
  readonly communeCode: string
  readonly communeName: string
  readonly groupingSiren: string
  readonly groupingName: string
}

/** A row of `byCategory`: one merchant category. */
export interface CategoryRow extends BreakdownFigures {
  readonly category: string
}

/** The report of API.md with a few figures more (funders, in flight, leverage's terms). */
export interface ProgrammeReport {
  readonly programmeId: string
  readonly name: string
  readonly validFrom: string
  readonly validUntil: string
  readonly bonusRateBasisPoints: number
  readonly funders: readonly FunderFigures[]
  readonly budgetCents: Cents
  readonly bonusGrantedCents: Cents
  readonly bonusRedeemedCents: Cents
  readonly bonusExpiredCents: Cents
  readonly bonusReducedCents: Cents
  readonly bonusRecoveredCents: Cents
  readonly bonusOutstandingCents: Cents
  readonly budgetAvailableCents: Cents
  readonly purchaseCount: number
  readonly purchaseCents: Cents
  readonly refundedCents: Cents
  readonly refundedToCustomersCents: Cents
  readonly purchasedRedeemedCents: Cents
  readonly purchasedExpiredCents: Cents
  readonly purchasedOutstandingCents: Cents
  readonly paidOutCents: Cents
  readonly inFlightCents: Cents
  readonly owedCents: Cents
  /** Customers' money kept by merchants plus public money spent: the leverage's numerator. */
  readonly localSpendingCents: Cents
  /** Bonus spent, less what refunds recovered: the leverage's denominator. */
  readonly publicMoneySpentCents: Cents
  readonly leverage: number | null
  readonly byGrouping: readonly GroupingRow[]
  readonly byCommune: readonly CommuneRow[]
  readonly byCategory: readonly CategoryRow[]
  readonly asOfPosition: number
}

/** The documents a report is made of; the runner looks them up in its read models. */
export interface ReportSources {
  readonly totals: ProgrammeTotalsDoc
  readonly merchantFigures: (merchantId: string) => ProgrammeMerchantDoc | undefined
  readonly balance: (merchantId: string) => MerchantBalanceDoc | undefined
  /** Every registered merchant; read once, so a one-shot iterator will do. */
  readonly merchants: Iterable<MerchantDoc>
  readonly asOfPosition: number
}

/**
 * The leverage effect: euros spent locally per euro of public money.
 *
 *   localSpending = purchaseCents - refundedCents + bonusRedeemedCents
 *   publicMoneySpent = bonusRedeemedCents - bonusRecoveredCents
 *   leverage = localSpending / publicMoneySpent, rounded half up to 2 decimals
 *
 * Local spending is what merchants keep: purchase money not refunded (a purchased voucher is
 * spent at its merchant when bought, breakage included) plus the bonus spent there. Public money
 * spent is the bonus that stayed spent. So with the scheme's 25 % bonus fully spent the leverage
 * is 5.00: 4 euros of the customer's and 1 of public money per public euro. Computed in integer
 * arithmetic on cents (BigInt, so no product can lose precision); null when no public money was
 * spent, because a ratio over zero says nothing.
 */
export const leverageOf = (localSpendingCents: number, publicMoneySpentCents: number) => {
  if (publicMoneySpentCents <= 0) return null
  const local = BigInt(localSpendingCents)
  const spent = BigInt(publicMoneySpentCents)
  const hundredths = (local * 200n + spent) / (2n * spent)
  return Number(hundredths) / 100
}

const emptyFigures = (): Mutable<BreakdownFigures> => ({
  merchantCount: 0,
  tradingMerchantCount: 0,
  purchaseCount: 0,
  purchaseCents: zeroCents,
  refundedCents: zeroCents,
  bonusRedeemedCents: zeroCents,
  purchasedRedeemedCents: zeroCents,
  purchasedExpiredCents: zeroCents,
})

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const addTrading = (row: Mutable<BreakdownFigures>, figures: ProgrammeMerchantDoc): void => {
  row.tradingMerchantCount += 1
  row.purchaseCount += figures.purchaseCount
  row.purchaseCents = cents(row.purchaseCents + figures.purchaseCents)
  row.refundedCents = cents(row.refundedCents + figures.refundedCents)
  row.bonusRedeemedCents = cents(row.bonusRedeemedCents + figures.bonusRedeemedCents)
  row.purchasedRedeemedCents = cents(row.purchasedRedeemedCents + figures.purchasedRedeemedCents)
  row.purchasedExpiredCents = cents(row.purchasedExpiredCents + figures.purchasedExpiredCents)
}

/** Stands in for a merchant missing from the directory, which registration makes impossible. */
const unregistered = (merchantId: string): MerchantDoc => ({
  merchantId,
  legalName: '',
  siret: '',
  communeCode: 'unknown',
  communeName: 'unknown',
  groupingSiren: 'unknown',
  groupingName: 'unknown',
  category: 'services',
  status: 'active',
  registeredAt: '',
})

/**
 * Rows of one breakdown: every registered merchant counts where it is, and the programme's
 * merchants add their figures there. Rows come in the order of their code, for stable output.
 */
const breakdown = <Row extends BreakdownFigures>(
  sources: ReportSources,
  codeOf: (merchant: MerchantDoc) => string,
  labelsOf: (merchant: MerchantDoc) => Omit<Row, keyof BreakdownFigures>,
): Row[] => {
  const rows = new Map<string, Mutable<BreakdownFigures>>()
  const labels = new Map<string, Omit<Row, keyof BreakdownFigures>>()
  const rowOf = (merchant: MerchantDoc) => {
    const code = codeOf(merchant)
    if (!labels.has(code)) labels.set(code, labelsOf(merchant))
    let row = rows.get(code)
    if (row === undefined) rows.set(code, (row = emptyFigures()))
    return row
  }

  const registered = new Map<string, MerchantDoc>()
  for (const merchant of sources.merchants) {
    registered.set(merchant.merchantId, merchant)
    rowOf(merchant).merchantCount += 1
  }
  for (const merchantId of sources.totals.merchantIds) {
    const figures = sources.merchantFigures(merchantId)
    const merchant = registered.get(merchantId) ?? unregistered(merchantId)
    if (figures !== undefined) addTrading(rowOf(merchant), figures)
  }

  return [...rows.keys()]
    .sort()
    .map((code) => ({ ...labels.get(code), ...rows.get(code) }) as Row)
}

/** What the programme's merchants were paid, have in flight and are owed. */
const payoutTotals = (sources: ReportSources) => {
  let paidOutCents = 0
  let inFlightCents = 0
  let owedCents = 0
  for (const merchantId of sources.totals.merchantIds) {
    const balance = sources.balance(merchantId)
    if (balance === undefined) continue
    paidOutCents += balance.paidOutCents
    inFlightCents += balance.inFlightCents
    owedCents += balance.owedCents
  }
  return {
    paidOutCents: cents(paidOutCents),
    inFlightCents: cents(inFlightCents),
    owedCents: cents(owedCents),
  }
}

/** Assembles the report; see the module comment for how payouts are attributed. */
export const programmeReport = (given: ReportSources): ProgrammeReport => {
  const sources = { ...given, merchants: [...given.merchants] }
  const { scope: _scope, funders, merchantIds: _merchantIds, ...figures } = sources.totals
  const localSpendingCents = cents(
    figures.purchaseCents - figures.refundedCents + figures.bonusRedeemedCents,
  )
  const publicMoneySpentCents = cents(figures.bonusRedeemedCents - figures.bonusRecoveredCents)

  return {
    ...figures,
    funders: Object.values(funders).sort((a, b) => compareText(a.funderId, b.funderId)),
    ...payoutTotals(sources),
    localSpendingCents,
    publicMoneySpentCents,
    leverage: leverageOf(localSpendingCents, publicMoneySpentCents),
    byGrouping: breakdown<GroupingRow>(sources, (m) => m.groupingSiren, (m) => ({
      groupingSiren: m.groupingSiren,
      groupingName: m.groupingName,
    })),
    byCommune: breakdown<CommuneRow>(sources, (m) => m.communeCode, (m) => ({
      communeCode: m.communeCode,
      communeName: m.communeName,
      groupingSiren: m.groupingSiren,
      groupingName: m.groupingName,
    })),
    byCategory: breakdown<CategoryRow>(sources, (m) => m.category, (m) => ({
      category: m.category,
    })),
    asOfPosition: sources.asOfPosition,
  }
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The columns of the report's CSV, one figure a row so every figure of the JSON has its row. */
export const reportCsvColumns = ['programmeId', 'scope', 'code', 'name', 'figure', 'value'] as const

/**
 * The report as CSV rows: the programme's figures (scope `programme`), each funder's
 * contribution (scope `funder`), then every figure of every breakdown row (scopes `grouping`,
 * `commune`, `category`). Amounts stay in cents, as in the JSON; a null leverage is empty.
 */
export const programmeReportCsvRows = (report: ProgrammeReport): string[][] => {
  const id = report.programmeId
  const rows: string[][] = []
  const push = (scope: string, code: string, name: string, record: object) => {
    for (const [figure, value] of Object.entries(record)) {
      if (typeof value === 'number' || value === null) {
        rows.push([id, scope, code, name, figure, value === null ? '' : String(value)])
      }
    }
  }

  push('programme', id, report.name, report)
  for (const f of report.funders) push('funder', f.funderId, f.name, f)
  for (const g of report.byGrouping) push('grouping', g.groupingSiren, g.groupingName, g)
  for (const c of report.byCommune) push('commune', c.communeCode, c.communeName, c)
  for (const c of report.byCategory) push('category', c.category, c.category, c)
  return rows
}
