import {
  adjustmentShare,
  clickAndCollectOrderShare,
  oversellQuantity,
  pickupShare,
  skuNames,
  skusPerShopMax,
  stockTargetMax,
  stockTargetMin,
} from './behaviour'
import { dayMs, hourMs, isoOf, nextShopInstantMs, weeklyPayoutRunsMs } from './calendar'
import type { SeasonGenerator } from './generator'
import type { MoveStockStep, StockMovementBody } from './plan'
import type { Rng } from './random'

/**
 * The e-shops of click & collect merchants: stock received before the season and every Monday,
 * reserved by online orders that come with some redemptions, then collected (sold) or released,
 * and now and then adjusted after an inventory. Every movement is planned so stock never goes
 * negative, except one deliberate oversell that the ledger must refuse.
 */
interface Shop {
  readonly merchantId: string
  readonly skus: readonly { readonly sku: string; readonly targetLevel: number }[]
}

/** Monday restocks come an hour after the payout run, at seven. */
const restockOffsetMs = hourMs

export class StockKeeper {
  private readonly shops = new Map<string, Shop>()
  private movements = 0

  constructor(
    private readonly season: SeasonGenerator,
    private readonly rng: Rng,
  ) {}

  /** Each click & collect merchant puts a few articles online and receives their stock. */
  openShops(atMs: number): void {
    for (const merchant of this.season.merchants) {
      if (!merchant.clickAndCollect) continue
      const names = merchant.category === 'food' ? skuNames.food : skuNames.retail
      const count = this.rng.int(1, Math.min(skusPerShopMax, names.length))
      const skus = this.rng.shuffled(names).slice(0, count).map((sku) => ({
        sku,
        targetLevel: this.rng.int(stockTargetMin, stockTargetMax),
      }))
      const shop: Shop = { merchantId: merchant.body.merchantId, skus }
      this.shops.set(shop.merchantId, shop)
      for (const { sku, targetLevel } of skus) {
        this.move(atMs, shop.merchantId, { sku, kind: 'received', quantity: targetLevel })
      }
    }
  }

  /** Weekly restocks, and once the first week is over, the oversell the ledger must refuse. */
  scheduleRestocks(): void {
    const mondays = weeklyPayoutRunsMs(this.season.calendar)
    for (const mondayMs of mondays) {
      const atMs = mondayMs + restockOffsetMs
      this.season.agenda.add(atMs, { kind: 'stock', run: () => this.restock(atMs) })
    }
    const first = mondays[0]
    const shop = [...this.shops.values()][0]
    const article = shop?.skus[0]
    if (first === undefined || shop === undefined || article === undefined) return
    const atMs = first + 2 * restockOffsetMs
    this.season.agenda.add(atMs, {
      kind: 'stock',
      run: () =>
        this.move(
          atMs,
          shop.merchantId,
          { sku: article.sku, kind: 'reserved', quantity: oversellQuantity },
          { code: 'insufficient_stock' },
        ),
    })
  }

  /** After a redemption at a click & collect shop, sometimes an online order: reserve it. */
  maybeOrder(atMs: number, merchantId: string): void {
    const shop = this.shops.get(merchantId)
    if (shop === undefined || !this.rng.chance(clickAndCollectOrderShare)) return
    const { sku } = this.rng.pick(shop.skus)
    const levels = this.season.model.stockOf(merchantId, sku)
    const quantity = Math.min(this.rng.int(1, 3), levels.onHand - levels.reserved)
    if (quantity <= 0) return
    this.move(atMs, merchantId, { sku, kind: 'reserved', quantity })

    const collected = this.rng.chance(pickupShare)
    const laterMs = nextShopInstantMs(this.rng, atMs + this.rng.int(1, collected ? 4 : 7) * dayMs)
    this.season.agenda.add(laterMs, {
      kind: 'stock',
      run: () => {
        const kind = collected ? 'sold' : 'released'
        this.move(laterMs, merchantId, { sku, kind, quantity })
      },
    })
  }

  /** Every article back to its level; sometimes an inventory finds one broken or one more. */
  private restock(atMs: number): void {
    for (const shop of this.shops.values()) {
      for (const { sku, targetLevel } of shop.skus) {
        const levels = this.season.model.stockOf(shop.merchantId, sku)
        const missing = targetLevel - (levels.onHand - levels.reserved)
        if (missing > 0) {
          this.move(atMs, shop.merchantId, { sku, kind: 'received', quantity: missing })
        }
        if (!this.rng.chance(adjustmentShare)) continue
        const broken = levels.onHand - 1 >= levels.reserved && this.rng.chance(0.7)
        this.move(atMs, shop.merchantId, {
          sku,
          kind: 'adjusted',
          quantity: broken ? -1 : 1,
          reason: broken ? 'inventaire : article abîmé' : 'inventaire : article retrouvé',
        })
      }
    }
  }

  /** Emits one movement with the levels it must leave, or the refusal it must meet. */
  private move(
    atMs: number,
    merchantId: string,
    movement: Omit<StockMovementBody, 'movementId' | 'occurredAt'>,
    refusal: MoveStockStep['refusal'] = null,
  ): void {
    this.movements += 1
    const movementId = `${this.season.tag}-k${String(this.movements).padStart(6, '0')}`
    const levels = this.season.model.stockOf(merchantId, movement.sku)
    if (refusal === null) applyMovement(levels, movement.kind, movement.quantity)
    this.season.emit({
      kind: 'moveStock',
      atMs,
      merchantId,
      body: { movementId, ...movement, occurredAt: isoOf(atMs) },
      expected: refusal === null ? { onHand: levels.onHand, reserved: levels.reserved } : null,
      refusal,
    })
  }
}

/** The levels after a movement the plan made sure is possible; asserts it is. */
const applyMovement = (
  levels: { onHand: number; reserved: number; receivedTotal: number },
  kind: StockMovementBody['kind'],
  quantity: number,
): void => {
  switch (kind) {
    case 'received':
      levels.onHand += quantity
      levels.receivedTotal += quantity
      break
    case 'adjusted':
      levels.onHand += quantity
      break
    case 'reserved':
      levels.reserved += quantity
      break
    case 'released':
      levels.reserved -= quantity
      break
    case 'sold':
      levels.onHand -= quantity
      levels.reserved -= Math.min(levels.reserved, quantity)
      break
  }
  if (levels.reserved < 0 || levels.onHand < levels.reserved) {
    throw new Error(`assertion failed: the plan oversells (${kind} ${quantity})`)
  }
}
