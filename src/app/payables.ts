import { isEventType, type LedgerEvent } from '../../domain/events'
import { parseAccount, postingsOf } from '../../domain/postings'
import { cents, type Cents } from '../../domain/money'
import { readAllPageSizeMax } from '../limits'
import type { EventStore } from '../store/port'

/**
 * What each merchant is owed, folded from the postings of the whole log: the credit balance of
 * its payable account. The payout run decides from it. It is the command side's own fold of the
 * events, caught up with the store under the payout lock just before each run, not a read model
 * (which could lag): a run sees every event durable before it, including the previous run.
 */
export class PayablesFold {
  private readonly owedByMerchant = new Map<string, Cents>()
  private positionReached = 0

  constructor(private readonly store: EventStore) {}

  /** Reads the events recorded since the last call and folds their postings. */
  async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.store.readAll(this.positionReached, readAllPageSizeMax)
      for (const event of page) {
        if (isEventType(event.type))
          this.apply({ type: event.type, data: event.data } as LedgerEvent)
        this.positionReached = event.position
      }
      if (page.length < readAllPageSizeMax) return
    }
  }

  owed(): ReadonlyMap<string, Cents> {
    return this.owedByMerchant
  }

  private apply(event: LedgerEvent): void {
    for (const posting of postingsOf(event)) {
      const account = parseAccount(posting.account)
      if (account?.kind !== 'merchantPayable' || account.merchantId === undefined) continue
      const before = this.owedByMerchant.get(account.merchantId) ?? 0
      this.owedByMerchant.set(account.merchantId, cents(before - posting.amountCents))
    }
  }
}
