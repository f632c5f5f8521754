import type { EventType, LedgerEvent } from '../domain/events'

/**
 * A recorded event as projections see it: the domain event with where and when it was recorded.
 * Projections are pure reducers over these; the runner in `src/projections` feeds them in order
 * and stores their state with the checkpoint.
 */
export type ProjectedEvent = LedgerEvent & {
  readonly position: number
  readonly streamId: string
  readonly revision: number
  readonly occurredAt: string
  readonly recordedAt: string
}

/**
 * A read model kept as a set of keyed documents. For each event, `keysOf` names the documents
 * it changes and `apply` computes their new values from the current ones, without I/O. The
 * runner loads the documents, calls `apply`, and saves what it returns with the checkpoint, so
 * state grows by key and only changed documents are written. `current` is lent for the call
 * only: a reducer reads it and never keeps it, so the runner may reuse one map for every call.
 */
export interface Projection<Doc> {
  readonly name: string
  /** Bumped when the document shape or the reducer changes: the runner then rebuilds from 0. */
  readonly version: number
  /**
   * The types of the events it reads. Any other event leaves it unchanged (`keysOf` names no
   * document), so the runner does not hand it over and a rebuild does not even read it: about
   * half of a season's log (idempotency records, bonus grants, seals) changes no read model.
   */
  readonly eventTypes: readonly EventType[]
  keysOf(event: ProjectedEvent): readonly string[]
  apply(
    event: ProjectedEvent,
    current: ReadonlyMap<string, Doc | undefined>,
  ): ReadonlyMap<string, Doc>
}
