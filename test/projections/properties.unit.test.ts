import fc from 'fast-check'
import t from 'tap'
import type { LedgerEvent } from '../../domain/events'
import { isBalanced, postedEventTypes, postingsOf } from '../../domain/postings'
import {
  accountBalancesProjection,
  merchantBalancesProjection,
  merchantsProjection,
  programmeFiguresProjection,
  programmeMerchantKey,
  programmeReport,
  stockProjection,
  vouchersProjection,
  type AccountBalanceDoc,
  type MerchantBalanceDoc,
  type MerchantDoc,
  type ProgrammeFiguresDoc,
  type ProgrammeMerchantDoc,
  type ProgrammeReport,
  type StockDoc,
  type VoucherDoc,
} from '../../projections'
import type { ProjectedEvent } from '../../projections/projection'
import { projectedEventOf } from '../../src/projections/engine'
import type { RecordedEvent } from '../../src/store/port'
import { fold, recorded, seasonEvents } from './fixtures'
import { simulatedLog } from './simulation'

/**
 * Properties over logs written by the domain's own deciders from random command sequences
 * (see simulation.ts): whatever customers, merchants and the processor do, the postings balance,
 * the report's identities hold at every position, and no figure goes where the rules forbid.
 */

const runs = { numRuns: 60 }

const projectedOf = (log: readonly RecordedEvent[]): ProjectedEvent[] =>
  log.map(projectedEventOf).filter((e): e is ProjectedEvent => e !== undefined)

/** Every read model after some events, folded one event at a time. */
class ReadModels {
  readonly merchants = new Map<string, MerchantDoc>()
  readonly balances = new Map<string, MerchantBalanceDoc>()
  readonly vouchers = new Map<string, VoucherDoc>()
  readonly stock = new Map<string, StockDoc>()
  readonly figures = new Map<string, ProgrammeFiguresDoc>()
  readonly accounts = new Map<string, AccountBalanceDoc>()

  apply(event: ProjectedEvent): void {
    fold(merchantsProjection, [event], this.merchants)
    fold(merchantBalancesProjection, [event], this.balances)
    fold(vouchersProjection, [event], this.vouchers)
    fold(stockProjection, [event], this.stock)
    fold(programmeFiguresProjection, [event], this.figures)
    fold(accountBalancesProjection, [event], this.accounts)
  }

  report(programmeId: string, asOfPosition: number): ProgrammeReport | undefined {
    const totals = this.figures.get(programmeId)
    if (totals?.scope !== 'programme') return undefined
    return programmeReport({
      totals,
      merchantFigures: (m) =>
        this.figures.get(programmeMerchantKey(programmeId, m)) as ProgrammeMerchantDoc | undefined,
      balance: (m) => this.balances.get(m),
      merchants: this.merchants.values(),
      asOfPosition,
    })
  }
}

const identitiesHold = (r: ProgrammeReport): boolean =>
  r.bonusGrantedCents ===
    r.bonusRedeemedCents + r.bonusOutstandingCents + r.bonusExpiredCents + r.bonusReducedCents &&
  r.budgetAvailableCents ===
    r.budgetCents -
      r.bonusGrantedCents +
      r.bonusExpiredCents +
      r.bonusReducedCents +
      r.bonusRecoveredCents

t.test('every event of any season has balanced postings with no zero line', async (t) => {
  fc.assert(
    fc.property(simulatedLog, (log) =>
      log.every((recorded) => {
        const postings = postingsOf({ type: recorded.type, data: recorded.data } as LedgerEvent)
        return isBalanced(postings) && postings.every((p) => p.amountCents !== 0)
      }),
    ),
    runs,
  )
  t.pass('balanced')
})

t.test('a projection changes for no event outside its declared types', async (t) => {
  const projections = [
    accountBalancesProjection,
    merchantBalancesProjection,
    merchantsProjection,
    programmeFiguresProjection,
    stockProjection,
    vouchersProjection,
  ] as const
  const undeclaredKeys = (events: readonly ProjectedEvent[]): string[] =>
    events.flatMap((event) =>
      projections
        .filter((p) => !(p.eventTypes as readonly string[]).includes(event.type))
        .filter((p) => p.keysOf(event).length > 0)
        .map((p) => `${p.name} reads ${event.type}`),
    )
  const unlistedPostings = (events: readonly ProjectedEvent[]): string[] =>
    events
      .filter((event) => !(postedEventTypes as readonly string[]).includes(event.type))
      .filter((event) => postingsOf(event).length > 0)
      .map((event) => `${event.type} moves money`)

  const season = recorded(seasonEvents())
  t.same(undeclaredKeys(season), [], 'in the fixtures season')
  t.same(unlistedPostings(season), [], 'postedEventTypes covers the fixtures season')
  fc.assert(
    fc.property(simulatedLog, (log) => {
      const events = projectedOf(log)
      return undeclaredKeys(events).length === 0 && unlistedPostings(events).length === 0
    }),
    runs,
  )
  t.pass('held in every simulated season')
})

t.test('after every event: identities, budget, vouchers, stock and balances', async (t) => {
  fc.assert(
    fc.property(simulatedLog, (log) => {
      const models = new ReadModels()
      for (const event of projectedOf(log)) {
        models.apply(event)
        const report = models.report('P1', event.position)
        if (report === undefined) continue
        if (!identitiesHold(report)) return false
        if (report.budgetAvailableCents < 0 || report.bonusOutstandingCents < 0) return false
        for (const v of models.vouchers.values()) if (v.remainingCents < 0) return false
        for (const s of models.stock.values()) {
          for (const item of Object.values(s.items)) {
            if (item.onHand < 0 || item.reserved < 0 || item.available < 0) return false
          }
        }
        let trialCents = 0
        for (const a of models.accounts.values()) trialCents += a.balanceCents
        if (trialCents !== 0) return false
      }
      return true
    }),
    runs,
  )
  t.pass('held at every position')
})

t.test("vouchers agree with the domain's own remaining amounts", async (t) => {
  fc.assert(
    fc.property(simulatedLog, (log) => {
      const models = new ReadModels()
      for (const event of projectedOf(log)) {
        models.apply(event)
        if (event.type === 'VoucherRedeemed' || event.type === 'BonusVoucherReduced') {
          const doc = models.vouchers.get(event.data.voucherId)
          if (doc?.remainingCents !== event.data.remainingCents) return false
        }
      }
      return true
    }),
    runs,
  )
  t.pass('agreed')
})

/** The report's figures summed straight from event data, without postings: an oracle. */
const oracle = (log: readonly RecordedEvent[]) => {
  const sums = {
    budgetCents: 0,
    bonusGrantedCents: 0,
    bonusRedeemedCents: 0,
    bonusExpiredCents: 0,
    bonusReducedCents: 0,
    bonusRecoveredCents: 0,
    purchaseCount: 0,
    purchaseCents: 0,
    refundedCents: 0,
    purchasedRedeemedCents: 0,
    purchasedExpiredCents: 0,
  }
  for (const { type, data } of log.map((r) => ({ type: r.type, data: r.data }) as LedgerEvent)) {
    if (type === 'ProgrammeCreated') {
      for (const f of data.funders) sums.budgetCents += f.contributionCents
    }
    if (type === 'ProgrammeBudgetIncreased') sums.budgetCents += data.amountCents
    if (type === 'VoucherPurchased') {
      sums.bonusGrantedCents += data.bonusCents
      sums.purchaseCount += 1
      sums.purchaseCents += data.amountCents
    }
    if (type === 'VoucherRedeemed' && data.kind === 'bonus') {
      sums.bonusRedeemedCents += data.amountCents
    }
    if (type === 'VoucherRedeemed' && data.kind === 'purchased') {
      sums.purchasedRedeemedCents += data.amountCents
    }
    if (type === 'VoucherExpired' && data.kind === 'bonus') {
      sums.bonusExpiredCents += data.expiredCents
    }
    if (type === 'VoucherExpired' && data.kind === 'purchased') {
      sums.purchasedExpiredCents += data.expiredCents
    }
    if (type === 'PurchaseRefunded') {
      sums.bonusReducedCents += data.bonusCancelledCents
      sums.bonusRecoveredCents += data.recoveredCents
      sums.refundedCents += data.unredeemedCents
    }
  }
  return sums
}

t.test('the report equals the sums of the event data, and merchants the payables', async (t) => {
  fc.assert(
    fc.property(simulatedLog, (log) => {
      const models = new ReadModels()
      for (const event of projectedOf(log)) models.apply(event)
      const report = models.report('P1', log.length)
      if (report === undefined) return false
      const expected = oracle(log)
      for (const [figure, value] of Object.entries(expected)) {
        if (report[figure as keyof typeof expected] !== value) return false
      }

      let owedCents = 0
      for (const balance of models.balances.values()) {
        const payable = models.accounts.get(`liabilities:merchants:${balance.merchantId}:payable`)
        if (balance.owedCents !== -(payable?.balanceCents ?? 0)) return false
        owedCents += balance.owedCents
      }
      return report.owedCents === owedCents
    }),
    runs,
  )
  t.pass('equal')
})
