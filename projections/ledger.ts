import type { Cents } from '../domain/money'
import { cents } from '../domain/money'
import { postingsOf, type Posting } from '../domain/postings'
import type { ProjectedEvent } from './projection'

/**
 * What every projection shares: the postings of an event, computed once however many
 * projections read them, and small helpers that take figures out of them. Money figures of the
 * read models come from here, never from event amounts directly, so they cannot disagree with
 * the exports, which use the same `postingsOf`.
 */

let memoEvent: ProjectedEvent | undefined
let memoPostings: readonly Posting[] = []

/**
 * The postings of a recorded event, computed once for all projections: the runner hands the
 * same event object to every projection before the next event, so remembering the last one is
 * enough, and unlike a weak map it costs the garbage collector nothing.
 */
export const postingsOfProjected = (event: ProjectedEvent): readonly Posting[] => {
  if (event === memoEvent) return memoPostings
  memoPostings = postingsOf(event)
  memoEvent = event
  return memoPostings
}

/** The net movement of one account in some postings: positive when debited, negative credited. */
export const netCents = (postings: readonly Posting[], account: string): Cents => {
  let sum = 0
  for (const posting of postings) if (posting.account === account) sum += posting.amountCents
  return cents(sum)
}

/** Fails loudly on what the ledger's rules make impossible; a read model must not hide it. */
export const assertInvariant = (condition: boolean, message: () => string): void => {
  if (!condition) throw new Error(`assertion failed: ${message()}`)
}

/** The one-document answer most reducers give, built without an array of entries. */
export const single = <Doc>(key: string, doc: Doc): ReadonlyMap<string, Doc> =>
  new Map<string, Doc>().set(key, doc)

/** The answer of a reducer that changes nothing. */
export const noDocs: ReadonlyMap<string, never> = new Map<string, never>()

/** The keys of an event a projection ignores; shared, so ignoring allocates nothing. */
export const noKeys: readonly string[] = Object.freeze([])
