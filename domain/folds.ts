import type { StreamEvent } from './decider'
import { evolveMerchant, initialMerchantState } from './merchant'
import {
  evolvePayout,
  evolvePayoutsLedger,
  initialPayoutState,
  initialPayoutsLedgerState,
} from './payout'
import { evolveProgramme, initialProgrammeState } from './programme'
import { evolveStock, initialStockState } from './stock'
import { categoryOf } from './streams'
import { evolveVoucher, initialVoucherState } from './voucher'

/**
 * How each stream category folds into the state its deciders read: one table, used by the
 * command handler and by the in-memory command side of the property tests alike.
 */
export interface StreamFold<State = unknown> {
  readonly initial: State
  evolve(state: State, event: StreamEvent): State
}

const foldOf = <S>(initial: S, evolve: (state: S, event: StreamEvent) => S): StreamFold =>
  ({ initial, evolve }) as unknown as StreamFold

const foldsByCategory: Readonly<Record<string, StreamFold>> = {
  programme: foldOf(initialProgrammeState, evolveProgramme),
  merchant: foldOf(initialMerchantState, evolveMerchant),
  voucher: foldOf(initialVoucherState, evolveVoucher),
  payout: foldOf(initialPayoutState, evolvePayout),
  payouts: foldOf(initialPayoutsLedgerState, evolvePayoutsLedger),
  stock: foldOf(initialStockState, evolveStock),
  // The first answer to a command with an idempotency key (see `CommandAccepted`).
  idempotency: {
    initial: undefined,
    evolve: (state, event) => (event.type === 'CommandAccepted' ? event.data : state),
  },
}

/** The fold of a stream's category, or undefined for a category no decider reads. */
export const foldOfStream = (streamId: string): StreamFold | undefined =>
  foldsByCategory[categoryOf(streamId)]
