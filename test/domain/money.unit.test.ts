import t from 'tap'
import { cents, shareAtRate, formatEuros } from '../../domain/money'

t.test('the bonus share is rounded down to the cent', async (t) => {
  t.equal(shareAtRate(cents(10_000), 2500), 2500)
  t.equal(shareAtRate(cents(1_999), 2500), 499)
  t.equal(shareAtRate(cents(3), 2500), 0)
})

t.test('cents refuse fractions', async (t) => {
  t.throws(() => cents(1.5))
  t.equal(formatEuros(-12345), '-123.45')
})
