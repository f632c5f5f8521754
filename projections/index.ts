import type { Projection } from './projection'
import { accountBalancesProjection } from './account-balances'
import { merchantBalancesProjection } from './merchant-balances'
import { merchantsProjection } from './merchants'
import { programmeFiguresProjection } from './programme-figures'
import { stockProjection } from './stock'
import { vouchersProjection } from './vouchers'

// The read models and their queries, from one module for the runner and the HTTP edge.
export * from './account-balances'
export * from './merchant-balances'
export * from './merchants'
export * from './programme-figures'
export * from './programme-report'
export * from './stock'
export * from './vouchers'
export type { Projection, ProjectedEvent } from './projection'

/**
 * The runner stores every projection's documents the same way (JSON by key), so it handles them
 * without their document type; each projection only ever sees its own documents.
 */
export type StoredProjection = Projection<unknown>

const stored = <Doc>(projection: Projection<Doc>): StoredProjection =>
  projection as unknown as StoredProjection

/**
 * Every read model the runner keeps, in the order it applies them. Their names are the keys of
 * their stored documents and checkpoints, so a name never changes; a new shape bumps `version`.
 */
export const allProjections: readonly StoredProjection[] = [
  stored(merchantsProjection),
  stored(merchantBalancesProjection),
  stored(vouchersProjection),
  stored(stockProjection),
  stored(programmeFiguresProjection),
  stored(accountBalancesProjection),
]
