import t from 'tap'
import {
  merchantBalancesProjection,
  type MerchantBalanceDoc,
} from '../../projections/merchant-balances'
import { merchantsProjection } from '../../projections/merchants'
import {
  programmeFiguresProjection,
  programmeMerchantKey,
  type ProgrammeMerchantDoc,
  type ProgrammeTotalsDoc,
} from '../../projections/programme-figures'
import {
  leverageOf,
  programmeReport,
  programmeReportCsvRows,
  type ProgrammeReport,
} from '../../projections/programme-report'
import type { ProjectedEvent } from '../../projections/projection'
import {
  bonusVoucherIssued,
  fold,
  programmeCreated,
  recorded,
  seasonEvents,
  voucherExpired,
  voucherPurchased,
} from './fixtures'

const season = recorded(seasonEvents())

const reportOf = (events: readonly ProjectedEvent[], programmeId = 'P1'): ProgrammeReport => {
  const figures = fold(programmeFiguresProjection, events)
  const balances = fold(merchantBalancesProjection, events)
  const merchants = fold(merchantsProjection, events)
  return programmeReport({
    totals: figures.get(programmeId) as ProgrammeTotalsDoc,
    merchantFigures: (m) =>
      figures.get(programmeMerchantKey(programmeId, m)) as ProgrammeMerchantDoc | undefined,
    balance: (m) => balances.get(m) as MerchantBalanceDoc | undefined,
    merchants: merchants.values(),
    asOfPosition: events[events.length - 1]?.position ?? 0,
  })
}

t.test('every figure of a season', async (t) => {
  const report = reportOf(season)
  t.match(report, {
    programmeId: 'P1',
    name: 'Saison 2026',
    budgetCents: 160_000,
    bonusGrantedCents: 7_500,
    bonusRedeemedCents: 7_000,
    bonusExpiredCents: 0,
    bonusReducedCents: 500,
    bonusRecoveredCents: 1_000,
    bonusOutstandingCents: 0,
    budgetAvailableCents: 154_000,
    purchaseCount: 2,
    purchaseCents: 30_000,
    refundedCents: 6_000,
    refundedToCustomersCents: 5_000,
    purchasedRedeemedCents: 19_000,
    purchasedExpiredCents: 5_000,
    purchasedOutstandingCents: 0,
    paidOutCents: 9_000,
    inFlightCents: 0,
    owedCents: 22_000,
    localSpendingCents: 31_000,
    publicMoneySpentCents: 6_000,
    leverage: 5.17,
    asOfPosition: season.length,
  })
  t.same(report.funders, [
    { funderId: 'F1', name: 'Funder 1', contributionCents: 100_000 },
    { funderId: 'F2', name: 'Funder 2', contributionCents: 60_000 },
  ])
})

t.test('breakdowns by grouping, commune and category', async (t) => {
  const report = reportOf(season)
  const saulnois = {
    merchantCount: 1,
    tradingMerchantCount: 1,
    purchaseCount: 1,
    purchaseCents: 20_000,
    refundedCents: 0,
    bonusRedeemedCents: 2_000,
    purchasedRedeemedCents: 15_000,
    purchasedExpiredCents: 5_000,
  }
  const sarrebourgFigures = {
    merchantCount: 2,
    tradingMerchantCount: 1,
    purchaseCount: 1,
    purchaseCents: 10_000,
    refundedCents: 6_000,
    bonusRedeemedCents: 5_000,
    purchasedRedeemedCents: 4_000,
    purchasedExpiredCents: 0,
  }
  t.same(report.byGrouping, [
    { groupingSiren: '200068120', groupingName: 'CC du Saulnois', ...saulnois },
    { groupingSiren: '200068146', groupingName: 'CC Sarrebourg Moselle Sud', ...sarrebourgFigures },
  ])
  t.same(
    report.byCommune.map((c) => [c.communeCode, c.communeName, c.groupingName, c.purchaseCents]),
    [
      ['57132', 'Château-Salins', 'CC du Saulnois', 20_000],
      ['57630', 'Sarrebourg', 'CC Sarrebourg Moselle Sud', 10_000],
    ],
  )
  t.same(report.byCategory, [
    { category: 'restaurant', ...saulnois },
    { category: 'retail', ...sarrebourgFigures },
  ])
})

t.test('the two identities of API.md hold after every event', async (t) => {
  for (let n = 1; n <= season.length; n++) {
    const figures = fold(programmeFiguresProjection, season.slice(0, n))
    const totals = figures.get('P1') as ProgrammeTotalsDoc
    t.equal(
      totals.bonusGrantedCents,
      totals.bonusRedeemedCents +
        totals.bonusOutstandingCents +
        totals.bonusExpiredCents +
        totals.bonusReducedCents,
    )
    t.equal(
      totals.budgetAvailableCents,
      totals.budgetCents -
        totals.bonusGrantedCents +
        totals.bonusExpiredCents +
        totals.bonusReducedCents +
        totals.bonusRecoveredCents,
    )
  }
})

t.test('bonus expiry returns the bonus to the budget', async (t) => {
  const report = reportOf(
    recorded([
      programmeCreated('P1', [10_000]),
      voucherPurchased({ amountCents: 10_000, bonusCents: 2_500 }),
      bonusVoucherIssued({ amountCents: 10_000, bonusCents: 2_500 }),
      voucherExpired({ voucherId: 'b-pu1', kind: 'bonus', expiredCents: 2_500 }),
    ]),
  )
  t.match(report, {
    bonusGrantedCents: 2_500,
    bonusExpiredCents: 2_500,
    bonusOutstandingCents: 0,
    budgetAvailableCents: 10_000,
    leverage: null,
  })
})

t.test('programmes are reported apart', async (t) => {
  const events = recorded([
    programmeCreated('P1', [10_000]),
    programmeCreated('P2', [20_000]),
    voucherPurchased({ programmeId: 'P2', amountCents: 4_000, bonusCents: 1_000 }),
  ])
  t.match(reportOf(events, 'P1'), { budgetCents: 10_000, purchaseCount: 0, bonusGrantedCents: 0 })
  t.match(reportOf(events, 'P2'), {
    budgetCents: 20_000,
    purchaseCount: 1,
    budgetAvailableCents: 19_000,
  })
})

t.test('leverage: integer arithmetic, rounded half up, null without public money', async (t) => {
  t.equal(leverageOf(12_500, 2_500), 5)
  t.equal(leverageOf(31_000, 6_000), 5.17)
  t.equal(leverageOf(1, 8), 0.13)
  t.equal(leverageOf(1, 3), 0.33)
  t.equal(leverageOf(2, 3), 0.67)
  t.equal(leverageOf(10, 0), null)
  t.equal(leverageOf(10, -5), null)
  t.equal(leverageOf(9_000_000_000_000, 1_000_000_000_000), 9)
})

t.test('the CSV has one row per figure of the JSON, with the same values', async (t) => {
  const report = reportOf(season)
  const rows = programmeReportCsvRows(report)
  const value = (scope: string, code: string, figure: string) =>
    rows.find((r) => r[1] === scope && r[2] === code && r[4] === figure)?.[5]

  for (const [figure, amount] of Object.entries(report)) {
    if (typeof amount !== 'number') continue
    t.equal(value('programme', 'P1', figure), String(amount), figure)
  }
  t.equal(value('programme', 'P1', 'leverage'), '5.17')
  t.equal(value('funder', 'F2', 'contributionCents'), '60000')
  t.equal(value('grouping', '200068120', 'bonusRedeemedCents'), '2000')
  t.equal(value('commune', '57630', 'merchantCount'), '2')
  t.equal(value('category', 'retail', 'purchaseCents'), '10000')
})
