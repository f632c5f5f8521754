import type { Cents } from '../domain/money'
import { postedEventTypes } from '../domain/postings'
import { cents, zeroCents } from '../domain/money'
import type { Projection, ProjectedEvent } from './projection'
import { noKeys, postingsOfProjected } from './ledger'

/**
 * The trial balance: every account of the chart with its debits, credits and balance, summed
 * from the postings. It is what `hledger balance` prints from the journal export, so the two can
 * be compared figure by figure, and its balances sum to zero at every position.
 */
export interface AccountBalanceDoc {
  readonly account: string
  readonly debitCents: Cents
  readonly creditCents: Cents
  /** Debits less credits: positive for a debit balance. */
  readonly balanceCents: Cents
}

/** The accounts an event posts to; one named twice is simply looked up twice. */
const keysOf = (event: ProjectedEvent): readonly string[] => {
  const postings = postingsOfProjected(event)
  return postings.length === 0 ? noKeys : postings.map((posting) => posting.account)
}

const apply = (
  event: ProjectedEvent,
  current: ReadonlyMap<string, AccountBalanceDoc | undefined>,
): ReadonlyMap<string, AccountBalanceDoc> => {
  const next = new Map<string, AccountBalanceDoc>()
  for (const { account, amountCents } of postingsOfProjected(event)) {
    const doc = next.get(account) ??
      current.get(account) ?? {
        account,
        debitCents: zeroCents,
        creditCents: zeroCents,
        balanceCents: zeroCents,
      }
    next.set(account, {
      account,
      debitCents: cents(doc.debitCents + Math.max(amountCents, 0)),
      creditCents: cents(doc.creditCents + Math.max(-amountCents, 0)),
      balanceCents: cents(doc.balanceCents + amountCents),
    })
  }
  return next
}

/** Keyed by account name. */
export const accountBalancesProjection: Projection<AccountBalanceDoc> = {
  name: 'account-balances',
  version: 1,
  eventTypes: postedEventTypes,
  keysOf,
  apply,
}
