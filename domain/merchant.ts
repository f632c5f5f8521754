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
import type { EventDataOf, MerchantCategory } from './events'
import type { Id } from './ids'
import type { Cents } from './money'
import { streams } from './streams'
import type { Territory } from './territory'
import type { Instant } from './time'

/**
 * A participating merchant (stream `merchant-<merchantId>`): who may sell and redeem vouchers,
 * where it is (for the reports by commune and grouping) and whether it is suspended.
 */

// ---- state ----

/** A merchant stream with no `MerchantRegistered` yet. */
export interface NoMerchant {
  readonly registered: false
  readonly lastOccurredAt: Instant | null
}

/** A registered merchant as the deciders of purchases, redemptions and stock read it. */
export interface Merchant {
  readonly registered: true
  readonly merchantId: Id
  readonly suspended: boolean
  readonly category: MerchantCategory
  readonly communeCode: string
  readonly groupingSiren: string
  readonly lastOccurredAt: Instant | null
}

/** Absent until registered, so no decider can treat an unknown merchant as an active one. */
export type MerchantState = NoMerchant | Merchant

export const initialMerchantState: MerchantState = { registered: false, lastOccurredAt: null }

// ---- evolve ----

/** Folds one event of the merchant stream; events of other streams leave the state as it is. */
export const evolveMerchant = (state: MerchantState, event: StreamEvent): MerchantState => {
  switch (event.type) {
    case 'MerchantRegistered':
      assert(!state.registered, `merchant ${event.data.merchantId} registered twice`)
      return {
        registered: true,
        merchantId: event.data.merchantId,
        suspended: false,
        category: event.data.category,
        communeCode: event.data.communeCode,
        groupingSiren: event.data.groupingSiren,
        lastOccurredAt: latestOccurredAt(state.lastOccurredAt, event),
      }
    case 'MerchantSuspended':
    case 'MerchantReinstated':
      assert(state.registered, `${event.type} before MerchantRegistered`)
      return {
        ...state,
        suspended: event.type === 'MerchantSuspended',
        lastOccurredAt: latestOccurredAt(state.lastOccurredAt, event),
      }
    default:
      return state
  }
}

// ---- commands ----

/** Registers a small business of the territory; eligibility is checked here. */
export interface RegisterMerchant {
  readonly merchantId: Id
  readonly legalName: string
  readonly siret: string
  readonly communeCode: string
  readonly category: MerchantCategory
  readonly employees: number
  readonly salesAreaM2: number
  readonly annualTurnoverCents: Cents
}

/** Stops a merchant from selling and redeeming vouchers, with the operator's reason. */
export interface SuspendMerchant {
  readonly merchantId: Id
  readonly reason: string
}

/** Lets a suspended merchant sell and redeem again, with the operator's reason. */
export interface ReinstateMerchant {
  readonly merchantId: Id
  readonly reason: string
}

export interface MerchantResponse {
  readonly merchantId: Id
  readonly suspended: boolean
}

// ---- decide ----

/** DOMAIN.md: a small business has at most 40 employees. */
export const employeesMax = 40

/** DOMAIN.md: a sales area under 500 m²; this limit itself is too large. */
export const salesAreaLimitM2 = 500

/** DOMAIN.md: an annual turnover under 1.5 million euros excluding tax; this limit is too large. */
export const annualTurnoverLimitCents = 150_000_000

/**
 * Registers a merchant. Refuses one already registered (`already_exists`), then a bad time
 * (`invalid_time`), then an ineligible business (`merchant_not_eligible`) with every failed
 * criterion in `errors`, so the applicant learns all of them at once.
 */
export const decideRegisterMerchant = (
  command: RegisterMerchant,
  state: MerchantState,
  territory: Territory,
  context: CommandContext,
): E.Either<Rejection, Decision<MerchantResponse>> => {
  if (state.registered) {
    return E.left(reject('already_exists', `merchant ${command.merchantId} already exists`))
  }
  const timeProblem = timeRejection(context, state.lastOccurredAt)
  if (timeProblem !== undefined) return E.left(timeProblem)

  const commune = territory.communeOf(command.communeCode)
  const errors = eligibilityErrors(command, commune !== undefined)
  if (commune === undefined || errors.length > 0) {
    return E.left(reject('merchant_not_eligible', 'the business is not eligible', errors))
  }

  const registered: EventDataOf<'MerchantRegistered'> = {
    merchantId: command.merchantId,
    legalName: command.legalName,
    siret: command.siret,
    communeCode: commune.communeCode,
    communeName: commune.communeName,
    groupingSiren: commune.groupingSiren,
    groupingName: commune.groupingName,
    category: command.category,
    employees: command.employees,
    salesAreaM2: command.salesAreaM2,
    annualTurnoverCents: command.annualTurnoverCents,
  }
  return E.right({
    appends: [
      {
        streamId: streams.merchant(command.merchantId),
        events: [{ type: 'MerchantRegistered', data: registered }],
      },
    ],
    response: { merchantId: command.merchantId, suspended: false },
  })
}

/** Every eligibility criterion the business fails, in the order DOMAIN.md lists them. */
const eligibilityErrors = (
  command: RegisterMerchant,
  inTerritory: boolean,
): RejectionFieldError[] => {
  const errors: RejectionFieldError[] = []
  if (command.employees > employeesMax) {
    errors.push({ field: 'employees', reason: `more than ${employeesMax} employees` })
  }
  if (command.salesAreaM2 >= salesAreaLimitM2) {
    errors.push({ field: 'salesAreaM2', reason: `sales area not under ${salesAreaLimitM2} m2` })
  }
  if (command.annualTurnoverCents >= annualTurnoverLimitCents) {
    errors.push({ field: 'annualTurnoverCents', reason: 'turnover not under 1.5 million euros' })
  }
  if (!inTerritory) {
    errors.push({ field: 'communeCode', reason: 'commune is not in the scheme territory' })
  }
  if (!passesLuhn(command.siret)) {
    errors.push({ field: 'siret', reason: 'fails the SIRET check digit (Luhn)' })
  }
  return errors
}

/**
 * The Luhn check that every SIRET passes. La Poste's establishments (SIREN 356000000) use
 * another rule; they are far above the size limits, so they are not accepted here either.
 */
export const passesLuhn = (digits: string): boolean => {
  if (!/^[0-9]+$/.test(digits)) return false
  let sum = 0
  for (let index = 0; index < digits.length; index += 1) {
    const digit = Number(digits[digits.length - 1 - index])
    const weighted = index % 2 === 1 ? digit * 2 : digit
    sum += weighted > 9 ? weighted - 9 : weighted
  }
  return sum % 10 === 0
}

/**
 * Suspends a merchant. Refuses an unknown merchant (`not_found`), then a bad time. Suspending a
 * merchant that is already suspended is still recorded: the operator's reason is a fact worth
 * keeping, and refusing it would make a retry after a lost answer look like an error.
 */
export const decideSuspendMerchant = (
  command: SuspendMerchant,
  state: MerchantState,
  context: CommandContext,
): E.Either<Rejection, Decision<MerchantResponse>> =>
  decideSuspension(command, state, context, 'MerchantSuspended')

/** Reinstates a merchant; as for suspension, reinstating an active one is recorded too. */
export const decideReinstateMerchant = (
  command: ReinstateMerchant,
  state: MerchantState,
  context: CommandContext,
): E.Either<Rejection, Decision<MerchantResponse>> =>
  decideSuspension(command, state, context, 'MerchantReinstated')

const decideSuspension = (
  command: SuspendMerchant | ReinstateMerchant,
  state: MerchantState,
  context: CommandContext,
  type: 'MerchantSuspended' | 'MerchantReinstated',
): E.Either<Rejection, Decision<MerchantResponse>> => {
  if (!state.registered) {
    return E.left(reject('not_found', `merchant ${command.merchantId} does not exist`))
  }
  const timeProblem = timeRejection(context, state.lastOccurredAt)
  if (timeProblem !== undefined) return E.left(timeProblem)

  const data = { merchantId: command.merchantId, reason: command.reason }
  return E.right({
    appends: [{ streamId: streams.merchant(command.merchantId), events: [{ type, data }] }],
    response: { merchantId: command.merchantId, suspended: type === 'MerchantSuspended' },
  })
}
