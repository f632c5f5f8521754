import t from 'tap'
import { accounts } from '../../domain/postings'
import { fecAccountOf } from '../../src/audit/fec-accounts'

/** The FEC's chart of accounts: each of ours to its PCG account, with its auxiliary party. */

t.test('every account of the chart maps to its PCG account and party', async (t) => {
  const cases = [
    [accounts.processorClearing, '512', undefined],
    [accounts.funderContributions('P', 'F:1'), '4417', { kind: 'funder', id: 'F:1' }],
    [accounts.budgetAvailable('P'), '4419', { kind: 'programme', id: 'P' }],
    [accounts.bonusOutstanding('P'), '4671', { kind: 'programme', id: 'P' }],
    [accounts.merchantPayable('M:7'), '401', { kind: 'merchant', id: 'M:7' }],
    [accounts.merchantPayoutInFlight('M'), '4012', { kind: 'merchant', id: 'M' }],
    [accounts.purchasedIssued('P'), '809', { kind: 'programme', id: 'P' }],
    [accounts.purchasedOutstanding('P'), '8011', { kind: 'programme', id: 'P' }],
    [accounts.purchasedRedeemed('P'), '8012', { kind: 'programme', id: 'P' }],
    [accounts.purchasedExpired('P'), '8013', { kind: 'programme', id: 'P' }],
    [accounts.purchasedRefunded('P'), '8014', { kind: 'programme', id: 'P' }],
  ] as const
  for (const [account, compteNum, auxiliary] of cases) {
    const mapped = fecAccountOf(account)
    t.equal(mapped.compteNum, compteNum, account)
    t.same(mapped.auxiliary, auxiliary, account)
    t.ok(mapped.compteLib.length > 0)
  }
})

t.test('an account outside the chart is a broken invariant', async (t) => {
  t.throws(() => fecAccountOf('assets:elsewhere'), /not in the chart/)
})
