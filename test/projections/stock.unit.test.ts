import t from 'tap'
import { stockItems, stockProjection } from '../../projections/stock'
import { fold, recorded, stockMoved } from './fixtures'

type Kind = 'received' | 'adjusted' | 'reserved' | 'released' | 'sold'
const move = (merchantId: string, sku: string, kind: Kind, levels: [number, number, number]) =>
  stockMoved({ merchantId, sku, kind, quantity: levels[0], onHand: levels[1], reserved: levels[2] })

t.test('each movement sets the levels of its item; items come in SKU order', async (t) => {
  const docs = fold(
    stockProjection,
    recorded([
      move('M1', 'tea', 'received', [10, 10, 0]),
      move('M1', 'cake', 'received', [4, 4, 0]),
      move('M1', 'tea', 'reserved', [3, 10, 3]),
      move('M1', 'tea', 'sold', [2, 8, 1]),
      move('M2', 'tea', 'received', [1, 1, 0]),
    ]),
  )
  t.same(stockItems(docs.get('M1')), [
    { sku: 'cake', onHand: 4, reserved: 0, available: 4 },
    { sku: 'tea', onHand: 8, reserved: 1, available: 7 },
  ])
  t.same(stockItems(docs.get('M2')), [{ sku: 'tea', onHand: 1, reserved: 0, available: 1 }])
  t.same(stockItems(undefined), [])
})

t.test('stock below zero is an assertion failure, not a figure', async (t) => {
  t.throws(
    () =>
      fold(
        stockProjection,
        recorded([move('M1', 'tea', 'reserved', [3, 2, 3])]),
      ),
    /below zero/,
  )
})
