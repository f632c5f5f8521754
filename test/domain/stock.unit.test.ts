import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import t from 'tap'
import type { CommandContext } from '../../domain/decider'
import type { StockMovementKind } from '../../domain/events'
import { decideMoveStock, type MoveStock } from '../../domain/stock'
import { streams } from '../../domain/streams'
import {
  codeOf,
  context,
  decisionOf,
  event,
  futureContext,
  id,
  merchantM,
  merchantN,
  merchantRegistered,
  merchantSuspended,
  nowAt,
  TestLedger,
} from './decider-fixtures'

const sku = 'mirabelle-jam-370g'

const move = (
  movementId: string,
  kind: StockMovementKind,
  quantity: number,
  merchantId: string = merchantM,
): MoveStock => ({
  movementId: id(movementId),
  merchantId: id(merchantId),
  sku: id(sku),
  kind,
  quantity,
  reason: kind === 'adjusted' ? 'inventory count' : null,
})

const decide = (ledger: TestLedger, command: MoveStock, ctx: CommandContext = context()) =>
  decideMoveStock(
    command,
    ledger.merchant(command.merchantId),
    ledger.stock(command.merchantId, sku),
    ctx,
  )

const shop = (): TestLedger =>
  new TestLedger()
    .record(streams.merchant(merchantM), [merchantRegistered(merchantM)])
    .record(streams.merchant(merchantN), [
      merchantRegistered(merchantN),
      merchantSuspended(merchantN),
    ])

/** A shop with 10 jars on hand, 4 of them reserved. */
const stocked = (): TestLedger => {
  const ledger = shop()
  ledger.apply(decide(ledger, move('m1', 'received', 10)))
  ledger.apply(decide(ledger, move('m2', 'reserved', 4)))
  return ledger
}

t.test('each kind of movement, with the levels after it', async (t) => {
  const ledger = shop()
  type Levels = { onHand: number; reserved: number; available: number }
  const steps: [StockMovementKind, number, Levels][] = [
    ['received', 10, { onHand: 10, reserved: 0, available: 10 }],
    ['reserved', 4, { onHand: 10, reserved: 4, available: 6 }],
    ['released', 1, { onHand: 10, reserved: 3, available: 7 }],
    ['sold', 2, { onHand: 8, reserved: 1, available: 7 }],
    ['sold', 5, { onHand: 3, reserved: 0, available: 3 }],
    ['adjusted', -1, { onHand: 2, reserved: 0, available: 2 }],
    ['adjusted', 5, { onHand: 7, reserved: 0, available: 7 }],
  ]
  steps.forEach(([kind, quantity, levels], index) => {
    const decision = ledger.apply(decide(ledger, move(`m${index}`, kind, quantity)))
    t.strictSame(decision.response, { sku, ...levels }, `${kind} ${quantity}`)
  })
  t.match(ledger.stock(merchantM, sku), { onHand: 7, reserved: 0, merchantId: merchantM, sku })
})

t.test('a movement records its event with the levels after it', async (t) => {
  const ledger = stocked()
  const decision = decisionOf(decide(ledger, move('m3', 'sold', 6)))
  t.strictSame(decision.appends, [
    {
      streamId: 'stock-boulangerie-m/mirabelle-jam-370g',
      events: [
        event('StockMoved', {
          movementId: id('m3'),
          merchantId: merchantM,
          sku: id(sku),
          kind: 'sold',
          quantity: 6,
          reason: null,
          onHand: 4,
          reserved: 0,
        }),
      ],
    },
  ])
})

t.test('MoveStock refuses, one case per rejection code', async (t) => {
  const stated = context('2020-07-01T09:59:59.999Z', { recordedAt: '2020-07-02T00:00:00.000Z' })
  const cases: { name: string; command: MoveStock; ctx?: CommandContext; code: string }[] = [
    { name: 'an unknown merchant', command: move('x', 'received', 1, 'nobody'), code: 'not_found' },
    {
      name: 'a future time',
      command: move('x', 'received', 1),
      ctx: futureContext(),
      code: 'invalid_time',
    },
    {
      name: 'a stated time before the last movement',
      command: move('x', 'received', 1),
      ctx: stated,
      code: 'invalid_time',
    },
    {
      name: 'a suspended merchant',
      command: move('x', 'received', 1, merchantN),
      code: 'merchant_suspended',
    },
    { name: 'receiving zero', command: move('x', 'received', 0), code: 'amount_out_of_range' },
    {
      name: 'reserving a negative quantity',
      command: move('x', 'reserved', -1),
      code: 'amount_out_of_range',
    },
    { name: 'adjusting by zero', command: move('x', 'adjusted', 0), code: 'amount_out_of_range' },
    { name: 'selling half a jar', command: move('x', 'sold', 1.5), code: 'amount_out_of_range' },
    {
      name: 'reserving more than available',
      command: move('x', 'reserved', 7),
      code: 'insufficient_stock',
    },
    {
      name: 'releasing more than reserved',
      command: move('x', 'released', 5),
      code: 'insufficient_stock',
    },
    {
      name: 'selling more than on hand',
      command: move('x', 'sold', 11),
      code: 'insufficient_stock',
    },
    {
      name: 'adjusting below what is reserved',
      command: move('x', 'adjusted', -7),
      code: 'insufficient_stock',
    },
    {
      name: 'adjusting below zero',
      command: move('x', 'adjusted', -11),
      code: 'insufficient_stock',
    },
    {
      name: 'a suspended merchant and a bad quantity: the first rule wins',
      command: move('x', 'sold', 0, merchantN),
      code: 'merchant_suspended',
    },
  ]
  for (const c of cases) t.equal(codeOf(decide(stocked(), c.command, c.ctx)), c.code, c.name)
})

t.test('movements up to the limits are accepted', async (t) => {
  const limits: [StockMovementKind, number][] = [
    ['reserved', 6],
    ['released', 4],
    ['sold', 10],
    ['adjusted', -6],
  ]
  for (const [kind, quantity] of limits) {
    const response = decisionOf(decide(stocked(), move('x', kind, quantity))).response
    t.ok(response.onHand >= response.reserved && response.reserved >= 0, `${kind} ${quantity}`)
  }
})

t.test('stock never goes negative, whatever the movements', async (t) => {
  const kinds: StockMovementKind[] = ['received', 'adjusted', 'reserved', 'released', 'sold']
  const movement = fc.record({
    kind: fc.constantFrom(...kinds),
    quantity: fc.integer({ min: -20, max: 20 }),
  })
  fc.assert(
    fc.property(fc.array(movement, { maxLength: 40 }), (movements) => {
      const ledger = shop()
      movements.forEach(({ kind, quantity }, index) => {
        const result = decide(ledger, move(`m${index}`, kind, quantity))
        if (E.isRight(result)) ledger.apply(result)
        const { onHand, reserved } = ledger.stock(merchantM, sku)
        if (onHand < 0 || reserved < 0 || reserved > onHand) {
          throw new Error(`levels ${onHand} on hand, ${reserved} reserved`)
        }
      })
    }),
    { numRuns: 200, seed: 20_200_701 },
  )
  t.pass()
})

t.test('evolve rechecks the levels an event carries', async (t) => {
  const wrongLevels = event('StockMoved', {
    movementId: id('m9'),
    merchantId: merchantM,
    sku: id(sku),
    kind: 'received',
    quantity: 1,
    reason: null,
    onHand: 5,
    reserved: 0,
  })
  t.throws(() => shop().record(streams.stock(merchantM, sku), [wrongLevels]).stock(merchantM, sku))
  const oversold = {
    ...wrongLevels,
    data: { ...wrongLevels.data, kind: 'sold', onHand: 0 },
  } as typeof wrongLevels
  t.throws(() => shop().record(streams.stock(merchantM, sku), [oversold]).stock(merchantM, sku))
  t.equal(stocked().stock(merchantM, sku).lastOccurredAt, nowAt)
  const unrelated = event('MerchantSuspended', { merchantId: merchantM, reason: 'r' })
  const ledger = stocked()
  const before = ledger.stock(merchantM, sku)
  ledger.record(streams.stock(merchantM, sku), [unrelated])
  t.strictSame(ledger.stock(merchantM, sku), before, 'events of other streams are ignored')
})
