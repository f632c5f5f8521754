import { createHash } from 'node:crypto'

/**
 * Stream names, one helper per category, in EventStoreDB's `<category>-<id>` form. Caller ids
 * never contain `/`, so it safely joins the parts of a compound id.
 */
export const streams = {
  programme: (programmeId: string) => `programme-${programmeId}`,
  merchant: (merchantId: string) => `merchant-${merchantId}`,
  voucher: (voucherId: string) => `voucher-${voucherId}`,
  payout: (payoutId: string) => `payout-${payoutId}`,
  /** The single stream that serialises payout runs, so two runs never pay the same money. */
  payoutsLedger: () => 'payouts-ledger',
  stock: (merchantId: string, sku: string) => `stock-${merchantId}/${sku}`,
  idempotency: (key: string) => `idempotency-${sha256Hex(key).slice(0, idempotencyHashChars)}`,
  seals: () => 'seal-ledger',
} as const

/** 128 bits of SHA-256: collisions between idempotency keys are out of reach. */
const idempotencyHashChars = 32

/** Every category the ledger writes; reads of everything keep only these. */
export const ledgerCategories = [
  'programme',
  'merchant',
  'voucher',
  'payout',
  'payouts',
  'stock',
  'idempotency',
  'seal',
] as const

export const categoryOf = (streamId: string): string => {
  const dash = streamId.indexOf('-')
  return dash < 0 ? streamId : streamId.slice(0, dash)
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex')
