import { stringify } from 'csv-stringify/sync'
import {
  accountBalancesProjection,
  emptyMerchantBalance,
  merchantBalancesProjection,
  merchantsProjection,
  programmeFiguresProjection,
  programmeMerchantKey,
  programmeReport,
  programmeReportCsvRows,
  reportCsvColumns,
  stockItems,
  stockProjection,
  vouchersProjection,
  type AccountBalanceDoc,
  type MerchantBalanceDoc,
  type MerchantDoc,
  type ProgrammeFiguresDoc,
  type ProgrammeMerchantDoc,
  type ProgrammeReport,
  type StockDoc,
  type StockItem,
  type VoucherDoc,
} from '../../projections'
import type { ProjectionEngine } from './engine'

/**
 * The read side's answers, in the shapes of API.md's Reads, each with the position it reflects.
 * They read committed documents only, synchronously, so an answer and its `asOfPosition` always
 * go together. Undefined means the thing is unknown (the HTTP edge answers 404).
 */

/** The answers carry the position they reflect, as every read of API.md does. */
export type MerchantBalanceView = MerchantBalanceDoc & { readonly asOfPosition: number }
/** `GET /v1/vouchers/:id`. */
export type VoucherView = VoucherDoc & { readonly asOfPosition: number }
/** A merchant of the directory. */
export type MerchantView = MerchantDoc & { readonly asOfPosition: number }

/** `GET /v1/merchants/:id/stock`. */
export interface StockView {
  readonly merchantId: string
  readonly items: readonly StockItem[]
  readonly asOfPosition: number
}

/** The trial balance, for operators and for comparing with the hledger export. */
export interface AccountBalancesView {
  readonly accounts: readonly AccountBalanceDoc[]
  readonly asOfPosition: number
}

/** Query methods over an engine's committed documents. */
export const readModelQueries = (engine: ProjectionEngine) => {
  const merchant = (id: string) => engine.doc<MerchantDoc>(merchantsProjection.name, id)

  const report = (programmeId: string): ProgrammeReport | undefined => {
    const totals = engine.doc<ProgrammeFiguresDoc>(programmeFiguresProjection.name, programmeId)
    if (totals?.scope !== 'programme') return undefined
    const figures = (merchantId: string) =>
      engine.doc<ProgrammeMerchantDoc>(
        programmeFiguresProjection.name,
        programmeMerchantKey(programmeId, merchantId),
      )
    return programmeReport({
      totals,
      merchantFigures: figures,
      balance: (id) => engine.doc<MerchantBalanceDoc>(merchantBalancesProjection.name, id),
      merchants: engine.docs<MerchantDoc>(merchantsProjection.name),
      asOfPosition: engine.position(),
    })
  }

  return {
    /** A registered merchant's entry in the directory. */
    merchant(merchantId: string): MerchantView | undefined {
      const doc = merchant(merchantId)
      return doc === undefined ? undefined : { ...doc, asOfPosition: engine.position() }
    },

    /** `GET /v1/merchants/:id/balance`: zeros for a registered merchant with no money yet. */
    merchantBalance(merchantId: string): MerchantBalanceView | undefined {
      const doc = engine.doc<MerchantBalanceDoc>(merchantBalancesProjection.name, merchantId)
      if (doc === undefined && merchant(merchantId) === undefined) return undefined
      const balance = doc ?? emptyMerchantBalance(merchantId)
      return { ...balance, asOfPosition: engine.position() }
    },

    /** `GET /v1/vouchers/:id`. */
    voucher(voucherId: string): VoucherView | undefined {
      const doc = engine.doc<VoucherDoc>(vouchersProjection.name, voucherId)
      return doc === undefined ? undefined : { ...doc, asOfPosition: engine.position() }
    },

    /** `GET /v1/merchants/:id/stock`: an empty list for a registered merchant with no stock. */
    stock(merchantId: string): StockView | undefined {
      const doc = engine.doc<StockDoc>(stockProjection.name, merchantId)
      if (doc === undefined && merchant(merchantId) === undefined) return undefined
      return { merchantId, items: stockItems(doc), asOfPosition: engine.position() }
    },

    /** `GET /v1/programmes/:id/report`. */
    programmeReport: report,

    /** `GET /v1/programmes/:id/report.csv`: the same figures, one per row. */
    programmeReportCsv(programmeId: string): string | undefined {
      const answer = report(programmeId)
      if (answer === undefined) return undefined
      return stringify(programmeReportCsvRows(answer), {
        header: true,
        columns: [...reportCsvColumns],
      })
    },

    /** The trial balance of every account, sorted by name; it sums to zero. */
    accountBalances(): AccountBalancesView {
      const accounts = [...engine.docs<AccountBalanceDoc>(accountBalancesProjection.name)].sort(
        (a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0),
      )
      return { accounts, asOfPosition: engine.position() }
    },
  }
}

/** Every query of the read side; the runner offers them all. */
export type ReadModelQueries = ReturnType<typeof readModelQueries>
