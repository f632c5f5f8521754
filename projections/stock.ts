import type { Projection, ProjectedEvent } from './projection'
import { assertInvariant, noDocs, noKeys, single } from './ledger'

/**
 * Stock levels of each merchant's e-shop, as `GET /v1/merchants/:id/stock` answers them. Each
 * `StockMoved` carries the levels after the movement, decided on the item's own stream, so the
 * projection takes them as they are and asserts rule 7 (never below zero) rather than summing
 * quantities again.
 */
export interface StockItem {
  readonly sku: string
  readonly onHand: number
  readonly reserved: number
  /** What can still be reserved or sold: on hand and not reserved. */
  readonly available: number
}

/** A merchant's stock, one document per merchant. */
export interface StockDoc {
  readonly merchantId: string
  /** Keyed by SKU, so one movement replaces one item without scanning the list. */
  readonly items: Readonly<Record<string, StockItem>>
}

const keysOf = (event: ProjectedEvent): readonly string[] =>
  event.type === 'StockMoved' ? [event.data.merchantId] : noKeys

const apply = (
  event: ProjectedEvent,
  current: ReadonlyMap<string, StockDoc | undefined>,
): ReadonlyMap<string, StockDoc> => {
  if (event.type !== 'StockMoved') return noDocs
  const { merchantId, sku, onHand, reserved } = event.data

  const available = onHand - reserved
  assertInvariant(
    onHand >= 0 && reserved >= 0 && available >= 0,
    () => `stock ${merchantId}/${sku} below zero: ${onHand} on hand, ${reserved} reserved`,
  )

  const items = {
    ...(current.get(merchantId)?.items ?? {}),
    [sku]: { sku, onHand, reserved, available },
  }
  return single(merchantId, { merchantId, items })
}

/** The items of a merchant in SKU order, the list the API answers. */
export const stockItems = (doc: StockDoc | undefined): readonly StockItem[] =>
  Object.values(doc?.items ?? {}).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))

/** Keyed by merchant id. */
export const stockProjection: Projection<StockDoc> = {
  name: 'stock',
  version: 1,
  eventTypes: ['StockMoved'],
  keysOf,
  apply,
}
