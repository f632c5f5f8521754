import t from 'tap'
import { accounts } from '../../domain/postings'
import { accountBalancesProjection } from '../../projections/account-balances'
import { fold, recorded, seasonEvents } from './fixtures'

t.test('the trial balance sums every posting and balances to zero', async (t) => {
  const docs = fold(accountBalancesProjection, recorded(seasonEvents()))
  const total = [...docs.values()].reduce((sum, doc) => sum + doc.balanceCents, 0)
  t.equal(total, 0)

  t.same(docs.get(accounts.budgetAvailable('P1')), {
    account: 'equity:programmes:P1:budget-available',
    debitCents: 7_500,
    creditCents: 161_500,
    balanceCents: -154_000,
  })
  t.equal(docs.get(accounts.merchantPayable('M2'))?.balanceCents, -22_000)
  t.equal(docs.get(accounts.merchantPayable('M1'))?.balanceCents, 0)
  t.equal(docs.get(accounts.bonusOutstanding('P1'))?.balanceCents, 0)
  t.equal(docs.get(accounts.processorClearing)?.balanceCents, 30_000 - 5_000 - 9_000)
})

t.test('events without postings touch no account', async (t) => {
  const docs = fold(accountBalancesProjection, recorded(seasonEvents().slice(2, 5)))
  t.equal(docs.size, 0)
})
