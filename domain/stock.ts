import assert from 'node:assert/strict'
import * as E from 'fp-ts/Either'
import {
  latestOccurredAt,
  reject,
  timeRejection,
  type CommandContext,
  type Decision,
  type Rejection,
  type StreamEvent,
} from './decider'
import type { EventDataOf, StockMovementKind } from './events'
import type { Id } from './ids'
import type { MerchantState } from './merchant'
import { streams } from './streams'
import type { Instant } from './time'

/**
 * The stock of one article of a merchant's e-shop (stream `stock-<merchantId>/<sku>`). One
 * stream per article makes it the consistency boundary of rule 7 of DOMAIN.md: two concurrent
 * reservations cannot both take the last item.
 */

// ---- state ----

/** Levels of one article; `reserved` never exceeds `onHand` and neither goes below zero. */
export interface StockLevels {
  readonly onHand: number
  readonly reserved: number
}

/** The article's levels, whose they are (null before the first movement), and its time. */
export interface StockState extends StockLevels {
  readonly merchantId: Id | null
  readonly sku: Id | null
  readonly lastOccurredAt: Instant | null
}

export const initialStockState: StockState = {
  merchantId: null,
  sku: null,
  onHand: 0,
  reserved: 0,
  lastOccurredAt: null,
}

// ---- evolve ----

/**
 * Folds one event of a stock stream; other events leave the state as it is. The levels an
 * event carries are rechecked against the movement applied to the levels before it, so a log
 * whose levels disagree with its movements is caught.
 */
export const evolveStock = (state: StockState, event: StreamEvent): StockState => {
  if (event.type !== 'StockMoved') return state
  const data = event.data
  assert(state.merchantId === null || state.merchantId === data.merchantId, 'stock of another')
  assert(state.sku === null || state.sku === data.sku, 'stock of another article')

  const after = levelsAfter(state, data.kind, data.quantity)
  assert(typeof after !== 'string', `stock movement ${data.movementId} refused: ${String(after)}`)
  assert.deepEqual(after, { onHand: data.onHand, reserved: data.reserved }, 'levels disagree')
  return {
    merchantId: data.merchantId,
    sku: data.sku,
    onHand: data.onHand,
    reserved: data.reserved,
    lastOccurredAt: latestOccurredAt(state.lastOccurredAt, event),
  }
}

/**
 * The levels after a movement, or why it would oversell. `received` and `adjusted` change what
 * is on hand (an adjustment never below what is reserved); `reserved` takes from what is
 * available and `released` gives it back; `sold` takes from what is on hand and fulfils
 * reservations first (click & collect pickups).
 */
export const levelsAfter = (
  levels: StockLevels,
  kind: StockMovementKind,
  quantity: number,
): StockLevels | string => {
  const { onHand, reserved } = levels
  switch (kind) {
    case 'received':
      return { onHand: onHand + quantity, reserved }
    case 'adjusted':
      // Below what is reserved is also below zero, since nothing reserves less than zero.
      if (onHand + quantity < reserved) return `${onHand + quantity} on hand, ${reserved} reserved`
      return { onHand: onHand + quantity, reserved }
    case 'reserved':
      if (onHand - reserved < quantity) return `${onHand - reserved} available`
      return { onHand, reserved: reserved + quantity }
    case 'released':
      if (reserved < quantity) return `${reserved} reserved`
      return { onHand, reserved: reserved - quantity }
    case 'sold':
      if (onHand < quantity) return `${onHand} on hand`
      return { onHand: onHand - quantity, reserved: reserved - Math.min(reserved, quantity) }
  }
}

// ---- commands ----

/** One stock movement of an article; `quantity` is signed for `adjusted` only. */
export interface MoveStock {
  readonly movementId: Id
  readonly merchantId: Id
  readonly sku: Id
  readonly kind: StockMovementKind
  readonly quantity: number
  readonly reason: string | null
}

export interface MoveStockResponse {
  readonly sku: Id
  readonly onHand: number
  readonly reserved: number
  readonly available: number
}

// ---- decide ----

/**
 * Moves stock. Refuses an unknown merchant (`not_found`); a bad time (`invalid_time`); a
 * suspended merchant (`merchant_suspended`); a quantity that is not a whole number above zero,
 * or for `adjusted` a whole number other than zero (`amount_out_of_range`: the closest code,
 * a quantity being the amount of a movement); a movement that would oversell or drive a level
 * below zero (`insufficient_stock`).
 */
export const decideMoveStock = (
  command: MoveStock,
  merchant: MerchantState,
  stock: StockState,
  context: CommandContext,
): E.Either<Rejection, Decision<MoveStockResponse>> => {
  if (!merchant.registered) {
    return E.left(reject('not_found', `merchant ${command.merchantId} does not exist`))
  }
  assert.equal(merchant.merchantId, command.merchantId, 'stock movement read another merchant')
  const rejection = moveStockRejection(command, merchant.suspended, stock, context)
  if (rejection !== undefined) return E.left(rejection)

  const after = levelsAfter(stock, command.kind, command.quantity)
  if (typeof after === 'string') {
    return E.left(reject('insufficient_stock', `${command.kind} ${command.quantity}: ${after}`))
  }
  const moved: EventDataOf<'StockMoved'> = {
    movementId: command.movementId,
    merchantId: command.merchantId,
    sku: command.sku,
    kind: command.kind,
    quantity: command.quantity,
    reason: command.reason,
    onHand: after.onHand,
    reserved: after.reserved,
  }
  return E.right({
    appends: [
      {
        streamId: streams.stock(command.merchantId, command.sku),
        events: [{ type: 'StockMoved', data: moved }],
      },
    ],
    response: {
      sku: command.sku,
      onHand: after.onHand,
      reserved: after.reserved,
      available: after.onHand - after.reserved,
    },
  })
}

const moveStockRejection = (
  command: MoveStock,
  merchantSuspended: boolean,
  stock: StockState,
  context: CommandContext,
): Rejection | undefined => {
  const timeProblem = timeRejection(context, stock.lastOccurredAt)
  if (timeProblem !== undefined) return timeProblem

  if (merchantSuspended) {
    return reject('merchant_suspended', `merchant ${command.merchantId} is suspended`)
  }
  const whole = Number.isSafeInteger(command.quantity)
  const validQuantity =
    whole && (command.kind === 'adjusted' ? command.quantity !== 0 : command.quantity > 0)
  if (!validQuantity) {
    const expected = command.kind === 'adjusted' ? 'a whole number other than 0' : 'above 0'
    return reject('amount_out_of_range', `quantity ${command.quantity} is not ${expected}`)
  }
  return undefined
}
