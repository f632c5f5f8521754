import assert from 'node:assert/strict'
import * as E from 'fp-ts/Either'
import {
  latestOccurredAt,
  reject,
  timeRejection,
  type CommandContext,
  type Decision,
  type Rejection,
  type RejectionFieldError,
  type StreamEvent,
} from './decider'
import type { EventDataOf, Funder } from './events'
import type { Id } from './ids'
import {
  addCents,
  basisPointsPerUnit,
  budgetCentsMax,
  cents,
  subtractCents,
  zeroCents,
  type Cents,
} from './money'
import { streams } from './streams'
import type { CalendarDate, Instant } from './time'

/**
 * The funding programme (stream `programme-<programmeId>`): the public budget the bonuses are
 * paid from, and the consistency boundary of rules 1 and 2 of DOMAIN.md. Every bonus is granted
 * here, so the budget and the per-customer cap hold under any concurrency: two purchases that
 * both read the same revision cannot both append.
 */

// ---- state ----

/**
 * Net bonus per customer, in a two-level trie of small arrays indexed by a hash of the customer
 * id, with a small map per leaf. The programme stream is the hottest of the ledger and is folded
 * once per event, so an update copies two arrays of 64 and one leaf, never the whole table: the
 * fold stays linear at tens of thousands of customers while every state stays immutable.
 */
export type CustomerBonusTotals = readonly (CustomerBonusBranch | undefined)[]
type CustomerBonusBranch = readonly (ReadonlyMap<string, Cents> | undefined)[]

/**
 * The voucher ids a programme issued, newest first, as a list that successive states share, for
 * the same reason as the buckets above. `programmeVoucherIds` gives them as an array.
 */
export type IssuedVoucherIds = { readonly voucherId: Id; readonly next: IssuedVoucherIds } | null

/** A programme stream with no `ProgrammeCreated` yet. */
export interface NoProgramme {
  readonly created: false
  readonly lastOccurredAt: Instant | null
}

/** What deciders need to know about a created programme; every amount in cents. */
export interface Programme {
  readonly created: true
  readonly programmeId: Id
  readonly name: string
  readonly bonusRateBasisPoints: number
  readonly validFrom: CalendarDate
  readonly validUntil: CalendarDate
  /** Each funder with its total contribution, initial and increases. */
  readonly funders: readonly Funder[]
  readonly minVoucherCents: Cents | null
  readonly maxVoucherCents: Cents | null
  readonly maxBonusPerCustomerCents: Cents | null
  readonly budgetCents: Cents
  readonly grantedCents: Cents
  /** What refunds gave back: unspent bonus cancelled plus spent bonus recovered. */
  readonly releasedCents: Cents
  readonly expiredBonusCents: Cents
  /** budget - granted + released + expired bonus: never below zero (rule 1). */
  readonly availableCents: Cents
  readonly bonusByCustomerCents: CustomerBonusTotals
  readonly voucherIds: IssuedVoucherIds
  readonly voucherCount: number
  readonly expiryRan: boolean
  readonly lastOccurredAt: Instant | null
}

/** Absent until created, so a decider cannot read a budget that does not exist. */
export type ProgrammeState = NoProgramme | Programme

export const initialProgrammeState: ProgrammeState = { created: false, lastOccurredAt: null }

/** Fan-out of each trie level: 4,096 leaves keep leaves tiny at 100,000 customers. */
const customerTrieBits = 6
const customerTrieFanOut = 1 << customerTrieBits

/** FNV-1a: cheap, stable across processes, and spreads short ids well enough for a trie. */
const customerHashOf = (customerId: string): number => {
  let hash = 0x811c9dc5
  for (let index = 0; index < customerId.length; index += 1) {
    hash = Math.imul(hash ^ customerId.charCodeAt(index), 0x01000193)
  }
  return hash >>> 0
}

const trieIndexes = (customerId: string): readonly [number, number] => {
  const hash = customerHashOf(customerId)
  return [hash & (customerTrieFanOut - 1), (hash >>> customerTrieBits) & (customerTrieFanOut - 1)]
}

/** The net bonus a programme granted a customer: granted minus what refunds released. */
export const customerBonusCents = (programme: Programme, customerId: string): Cents => {
  const [top, leaf] = trieIndexes(customerId)
  return programme.bonusByCustomerCents[top]?.[leaf]?.get(customerId) ?? zeroCents
}

const withCustomerBonus = (
  totals: CustomerBonusTotals,
  customerId: string,
  bonusCents: Cents,
): CustomerBonusTotals => {
  const [top, leaf] = trieIndexes(customerId)
  const branch = totals[top] ?? new Array<undefined>(customerTrieFanOut).fill(undefined)
  const entries = new Map(branch[leaf] ?? [])
  entries.set(customerId, bonusCents)

  const nextBranch = [...branch]
  nextBranch[leaf] = entries
  const next = [...totals]
  next[top] = nextBranch
  return next
}

/** The vouchers a programme issued, purchased and bonus, in issue order: what expiry reads. */
export const programmeVoucherIds = (programme: Programme): readonly Id[] => {
  const newestFirst: Id[] = []
  for (let node = programme.voucherIds; node !== null; node = node.next) {
    newestFirst.push(node.voucherId)
  }
  assert.equal(newestFirst.length, programme.voucherCount, 'voucher list and count disagree')
  return newestFirst.reverse()
}

// ---- evolve ----

/**
 * Folds one event of the programme stream. Events of other streams leave the state as it is.
 * Throws on what cannot happen in a sound log: an event before `ProgrammeCreated`, a budget
 * that goes below zero, a customer whose net bonus goes below zero.
 */
export const evolveProgramme = (state: ProgrammeState, event: StreamEvent): ProgrammeState => {
  switch (event.type) {
    case 'ProgrammeCreated':
      assert(!state.created, `programme ${event.data.programmeId} created twice`)
      return createdProgramme(event.data, latestOccurredAt(state.lastOccurredAt, event))
    case 'ProgrammeBudgetIncreased':
      return changed(state, event, budgetIncreased(createdOnly(state, event), event.data))
    case 'BonusGranted':
      return changed(state, event, bonusGranted(createdOnly(state, event), event.data))
    case 'BonusReleased':
      return changed(state, event, bonusReleased(createdOnly(state, event), event.data))
    case 'ExpiryRunCompleted': {
      const { expiredBonusCents } = createdOnly(state, event)
      return changed(state, event, {
        expiredBonusCents: addCents(expiredBonusCents, event.data.expiredBonusCents),
        expiryRun: true,
      })
    }
    default:
      return state
  }
}

/** The fields an event changes; `changed` applies them in a single copy of the state. */
type ProgrammeChange = Partial<
  Pick<
    Programme,
    | 'funders'
    | 'budgetCents'
    | 'grantedCents'
    | 'releasedCents'
    | 'expiredBonusCents'
    | 'bonusByCustomerCents'
    | 'voucherIds'
    | 'voucherCount'
  >
> & { readonly expiryRun?: true }

/** The created programme, or a failed assertion when an event comes before its creation. */
const createdOnly = (state: ProgrammeState, event: StreamEvent): Programme => {
  assert(state.created, `${event.type} before ProgrammeCreated`)
  return state
}

/**
 * The next state: one copy of the programme with the change, the event's time and what is now
 * available, asserting rule 1 (one copy per event keeps the hot stream's fold cheap).
 */
const changed = (state: ProgrammeState, event: StreamEvent, change: ProgrammeChange): Programme => {
  const programme = createdOnly(state, event)
  const { expiryRun, ...fields } = change
  const next = {
    ...programme,
    ...fields,
    expiryRan: programme.expiryRan || expiryRun === true,
    lastOccurredAt: latestOccurredAt(programme.lastOccurredAt, event),
  }
  // `next` is a fresh object nobody else holds yet, so completing it keeps evolve pure.
  next.availableCents = availableOf(next)
  return next
}

const createdProgramme = (
  data: EventDataOf<'ProgrammeCreated'>,
  lastOccurredAt: Instant,
): Programme => {
  const budgetCents = data.funders.reduce(
    (sumCents, funder) => addCents(sumCents, funder.contributionCents),
    zeroCents,
  )
  return {
    created: true,
    programmeId: data.programmeId,
    name: data.name,
    bonusRateBasisPoints: data.bonusRateBasisPoints,
    validFrom: data.validFrom,
    validUntil: data.validUntil,
    funders: data.funders,
    minVoucherCents: data.minVoucherCents,
    maxVoucherCents: data.maxVoucherCents,
    maxBonusPerCustomerCents: data.maxBonusPerCustomerCents,
    budgetCents,
    grantedCents: zeroCents,
    releasedCents: zeroCents,
    expiredBonusCents: zeroCents,
    availableCents: budgetCents,
    bonusByCustomerCents: new Array<undefined>(customerTrieFanOut).fill(undefined),
    voucherIds: null,
    voucherCount: 0,
    expiryRan: false,
    lastOccurredAt,
  }
}

const budgetIncreased = (
  programme: Programme,
  data: EventDataOf<'ProgrammeBudgetIncreased'>,
): ProgrammeChange => {
  assert(
    programme.funders.some((funder) => funder.funderId === data.funderId),
    `budget increased by unknown funder ${data.funderId}`,
  )
  const funders = programme.funders.map((funder) =>
    funder.funderId === data.funderId
      ? { ...funder, contributionCents: addCents(funder.contributionCents, data.amountCents) }
      : funder,
  )
  return { funders, budgetCents: addCents(programme.budgetCents, data.amountCents) }
}

const bonusGranted = (programme: Programme, data: EventDataOf<'BonusGranted'>): ProgrammeChange => {
  const customerCents = addCents(customerBonusCents(programme, data.customerId), data.bonusCents)
  let voucherIds: IssuedVoucherIds = { voucherId: data.voucherId, next: programme.voucherIds }
  let voucherCount = programme.voucherCount + 1
  if (data.bonusVoucherId !== null) {
    voucherIds = { voucherId: data.bonusVoucherId, next: voucherIds }
    voucherCount += 1
  }
  return {
    grantedCents: addCents(programme.grantedCents, data.bonusCents),
    bonusByCustomerCents: withCustomerBonus(
      programme.bonusByCustomerCents,
      data.customerId,
      customerCents,
    ),
    voucherIds,
    voucherCount,
  }
}

const bonusReleased = (
  programme: Programme,
  data: EventDataOf<'BonusReleased'>,
): ProgrammeChange => {
  const releasedCents = addCents(data.cancelledCents, data.recoveredCents)
  const customerCents = subtractCents(
    customerBonusCents(programme, data.customerId),
    releasedCents,
  )
  assert(customerCents >= 0, `customer ${data.customerId} released more bonus than granted`)
  return {
    releasedCents: addCents(programme.releasedCents, releasedCents),
    bonusByCustomerCents: withCustomerBonus(
      programme.bonusByCustomerCents,
      data.customerId,
      customerCents,
    ),
  }
}

/** What a programme can still grant, asserting rule 1: public money is never overspent. */
const availableOf = (programme: Omit<Programme, 'availableCents'>): Cents => {
  const returnedCents = addCents(programme.releasedCents, programme.expiredBonusCents)
  assert(returnedCents <= programme.grantedCents, 'more bonus returned than granted')

  const availableCents = cents(programme.budgetCents - programme.grantedCents + returnedCents)
  assert(availableCents >= 0, `programme ${programme.programmeId} overspent its budget`)
  return availableCents
}

// ---- commands ----

/** Sets up a funding programme; its budget is the sum of its funders' contributions. */
export interface CreateProgramme {
  readonly programmeId: Id
  readonly name: string
  readonly bonusRateBasisPoints: number
  readonly validFrom: CalendarDate
  readonly validUntil: CalendarDate
  readonly funders: readonly Funder[]
  readonly minVoucherCents: Cents | null
  readonly maxVoucherCents: Cents | null
  readonly maxBonusPerCustomerCents: Cents | null
}

export interface CreateProgrammeResponse {
  readonly programmeId: Id
  readonly budgetCents: Cents
}

/** Adds one funder's money to a programme's budget. */
export interface IncreaseBudget {
  readonly programmeId: Id
  readonly increaseId: Id
  readonly funderId: Id
  readonly amountCents: Cents
}

export interface IncreaseBudgetResponse {
  readonly budgetCents: Cents
}

// ---- decide ----

/**
 * Creates a programme. Refuses, in this order: a programme that exists (`already_exists`); two
 * funders with one id (`already_exists` too: no code fits better, and a second contribution
 * under an id already listed is exactly a duplicate; each is named in `errors`); a bad time or
 * a validity that ends before it starts (`invalid_time`); a minimum voucher above the maximum or
 * a rate above 100 % (`amount_out_of_range`: such a rate would grant more than was paid).
 */
export const decideCreateProgramme = (
  command: CreateProgramme,
  state: ProgrammeState,
  context: CommandContext,
): E.Either<Rejection, Decision<CreateProgrammeResponse>> => {
  const rejection = createProgrammeRejection(command, state, context)
  if (rejection !== undefined) return E.left(rejection)

  const created: EventDataOf<'ProgrammeCreated'> = {
    programmeId: command.programmeId,
    name: command.name,
    bonusRateBasisPoints: command.bonusRateBasisPoints,
    validFrom: command.validFrom,
    validUntil: command.validUntil,
    funders: command.funders.map((funder) => ({ ...funder })),
    minVoucherCents: command.minVoucherCents,
    maxVoucherCents: command.maxVoucherCents,
    maxBonusPerCustomerCents: command.maxBonusPerCustomerCents,
  }
  const budgetCents = created.funders.reduce(
    (sumCents, funder) => addCents(sumCents, funder.contributionCents),
    zeroCents,
  )
  return E.right({
    appends: [
      {
        streamId: streams.programme(command.programmeId),
        events: [{ type: 'ProgrammeCreated', data: created }],
      },
    ],
    response: { programmeId: command.programmeId, budgetCents },
  })
}

const createProgrammeRejection = (
  command: CreateProgramme,
  state: ProgrammeState,
  context: CommandContext,
): Rejection | undefined => {
  if (state.created) {
    return reject('already_exists', `programme ${command.programmeId} already exists`)
  }
  const duplicates = duplicateFunderErrors(command.funders)
  if (duplicates.length > 0) {
    return reject('already_exists', 'a funder is listed twice', duplicates)
  }
  const timeProblem = timeRejection(context, state.lastOccurredAt)
  if (timeProblem !== undefined) return timeProblem

  if (command.validFrom > command.validUntil) {
    return reject('invalid_time', `validFrom ${command.validFrom} is after ${command.validUntil}`)
  }
  return createProgrammeAmountRejection(command)
}

const createProgrammeAmountRejection = (command: CreateProgramme): Rejection | undefined => {
  const errors: RejectionFieldError[] = []
  if (
    command.minVoucherCents !== null &&
    command.maxVoucherCents !== null &&
    command.minVoucherCents > command.maxVoucherCents
  ) {
    errors.push({ field: 'minVoucherCents', reason: 'is above maxVoucherCents' })
  }
  if (command.bonusRateBasisPoints > basisPointsPerUnit) {
    errors.push({ field: 'bonusRateBasisPoints', reason: 'is above 10000 (100 %)' })
  }
  const budgetCents = command.funders.reduce((sum, funder) => sum + funder.contributionCents, 0)
  if (budgetCents > budgetCentsMax) {
    errors.push({ field: 'funders', reason: `contributions add up to more than ${budgetCentsMax}` })
  }
  if (errors.length === 0) return undefined
  return reject('amount_out_of_range', 'the programme limits are inconsistent', errors)
}

const duplicateFunderErrors = (funders: readonly Funder[]): RejectionFieldError[] => {
  const firstIndexById = new Map<string, number>()
  const errors: RejectionFieldError[] = []
  funders.forEach((funder, index) => {
    const firstIndex = firstIndexById.get(funder.funderId)
    if (firstIndex === undefined) {
      firstIndexById.set(funder.funderId, index)
      return
    }
    errors.push({ field: `funders.${index}.funderId`, reason: `repeats funders.${firstIndex}` })
  })
  return errors
}

/**
 * Adds a funder's contribution to the budget. Refuses an unknown programme or a funder that is
 * not one of the programme's (`not_found`), then a bad time (`invalid_time`). The shell's
 * idempotency on `increaseId` keeps a retried increase from counting twice.
 */
export const decideIncreaseBudget = (
  command: IncreaseBudget,
  state: ProgrammeState,
  context: CommandContext,
): E.Either<Rejection, Decision<IncreaseBudgetResponse>> => {
  if (!state.created) {
    return E.left(reject('not_found', `programme ${command.programmeId} does not exist`))
  }
  if (!state.funders.some((funder) => funder.funderId === command.funderId)) {
    return E.left(reject('not_found', `funder ${command.funderId} does not fund this programme`))
  }
  const timeProblem = timeRejection(context, state.lastOccurredAt)
  if (timeProblem !== undefined) return E.left(timeProblem)
  if (state.budgetCents + command.amountCents > budgetCentsMax) {
    return E.left(
      reject('amount_out_of_range', `the budget would exceed ${budgetCentsMax} cents`, [
        { field: 'amountCents', reason: `takes the budget above ${budgetCentsMax} cents` },
      ]),
    )
  }

  const increased: EventDataOf<'ProgrammeBudgetIncreased'> = {
    programmeId: command.programmeId,
    increaseId: command.increaseId,
    funderId: command.funderId,
    amountCents: command.amountCents,
  }
  return E.right({
    appends: [
      {
        streamId: streams.programme(command.programmeId),
        events: [{ type: 'ProgrammeBudgetIncreased', data: increased }],
      },
    ],
    response: { budgetCents: addCents(state.budgetCents, command.amountCents) },
  })
}
