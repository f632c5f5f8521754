import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/Either'
import {
  latestOccurredAt,
  reject,
  timeRejection,
  type CommandContext,
  type Decision,
  type Rejection,
  type StreamEvent,
} from './decider'
import type { EventDataOf, LedgerEvent, PayoutStatus } from './events'
import { idPattern, type Id } from './ids'
import { addCents, cents, zeroCents, type Cents } from './money'
import { streams } from './streams'
import { epochMsOf, type Instant } from './time'

/**
 * Payouts: a run pays every merchant what it is owed (rule 8 of DOMAIN.md), one payout stream
 * (`payout-<payoutId>`) each, and the processor reports each payout paid or failed. Runs are
 * serialised on the `payouts-ledger` stream, so two runs never pay the same money twice.
 */

// ---- state ----

/** The `payouts-ledger` stream: the runs recorded so far. Runs are few, so a set is cheap. */
export interface PayoutsLedgerState {
  readonly runIds: ReadonlySet<Id>
  readonly lastOccurredAt: Instant | null
}

/** The latest notice by the processor's clock: it decides the payout's status. */
export interface LatestNotice {
  readonly outcome: 'paid' | 'failed'
  readonly noticeOccurredAt: Instant
}

/** A payout stream with no `PayoutScheduled` yet. */
export interface NoPayout {
  readonly scheduled: false
  readonly lastOccurredAt: Instant | null
}

/** A scheduled payout, its status, and the processor notices already recorded for it. */
export interface Payout {
  readonly scheduled: true
  readonly payoutId: Id
  readonly runId: Id
  readonly merchantId: Id
  readonly amountCents: Cents
  readonly status: PayoutStatus
  readonly latestNotice: LatestNotice | null
  readonly processorEventIds: ReadonlySet<string>
  readonly lastOccurredAt: Instant | null
}

/** Absent until scheduled, so a notice for a payout nobody made is `not_found`. */
export type PayoutState = NoPayout | Payout

export const initialPayoutsLedgerState: PayoutsLedgerState = {
  runIds: new Set(),
  lastOccurredAt: null,
}

export const initialPayoutState: PayoutState = { scheduled: false, lastOccurredAt: null }

// ---- evolve ----

/** Folds one event of the `payouts-ledger` stream; other events leave the state as it is. */
export const evolvePayoutsLedger = (
  state: PayoutsLedgerState,
  event: StreamEvent,
): PayoutsLedgerState => {
  if (event.type !== 'PayoutRunCompleted') return state
  assert(!state.runIds.has(event.data.runId), `payout run ${event.data.runId} recorded twice`)
  return {
    runIds: new Set([...state.runIds, event.data.runId]),
    lastOccurredAt: latestOccurredAt(state.lastOccurredAt, event),
  }
}

/** Folds one event of a payout stream; other events leave the state as it is. */
export const evolvePayout = (state: PayoutState, event: StreamEvent): PayoutState => {
  switch (event.type) {
    case 'PayoutScheduled':
      assert(!state.scheduled, `payout ${event.data.payoutId} scheduled twice`)
      return {
        scheduled: true,
        payoutId: event.data.payoutId,
        runId: event.data.runId,
        merchantId: event.data.merchantId,
        amountCents: event.data.amountCents,
        status: 'in_flight',
        latestNotice: null,
        processorEventIds: new Set(),
        lastOccurredAt: latestOccurredAt(state.lastOccurredAt, event),
      }
    case 'PayoutNoticeRecorded':
      assert(state.scheduled, `notice for payout ${event.data.payoutId} never scheduled`)
      return noticeRecorded(state, event.data, latestOccurredAt(state.lastOccurredAt, event))
    default:
      return state
  }
}

const noticeRecorded = (
  payout: Payout,
  data: EventDataOf<'PayoutNoticeRecorded'>,
  lastOccurredAt: Instant,
): Payout => {
  assert.equal(data.statusBefore, payout.status, `notice on payout ${payout.payoutId} is stale`)
  assert(!payout.processorEventIds.has(data.processorEventId), 'processor event recorded twice')
  const notice: LatestNotice = { outcome: data.outcome, noticeOccurredAt: data.noticeOccurredAt }
  return {
    ...payout,
    status: data.statusAfter,
    latestNotice: supersedes(notice, payout.latestNotice) ? notice : payout.latestNotice,
    processorEventIds: new Set([...payout.processorEventIds, data.processorEventId]),
    lastOccurredAt,
  }
}

/**
 * Whether a notice decides the status over the latest one so far: a later one does; on a tie a
 * failure does, so a payout reported both paid and failed at one instant is owed again rather
 * than silently lost.
 */
const supersedes = (notice: LatestNotice, latest: LatestNotice | null): boolean => {
  if (latest === null) return true
  const noticeMs = epochMsOf(notice.noticeOccurredAt)
  const latestMs = epochMsOf(latest.noticeOccurredAt)
  return noticeMs > latestMs || (noticeMs === latestMs && notice.outcome === 'failed')
}

// ---- commands ----

/** Pays every merchant owed more than zero. */
export interface RunPayouts {
  readonly runId: Id
}

export interface ScheduledPayout {
  readonly payoutId: Id
  readonly merchantId: Id
  readonly amountCents: Cents
}

export interface RunPayoutsResponse {
  readonly payouts: readonly ScheduledPayout[]
}

/** The processor's report that a payout was paid or failed, at its own `noticeOccurredAt`. */
export interface RecordPayoutNotice {
  readonly processorEventId: Id
  readonly payoutId: Id
  readonly outcome: 'paid' | 'failed'
  readonly reason: string | null
  readonly noticeOccurredAt: Instant
}

export interface RecordPayoutNoticeResponse {
  readonly status: 'recorded' | 'duplicate'
}

// ---- decide ----

/** 96 bits of SHA-256 name a payout: no two (run, merchant) pairs meet in practice. */
const payoutIdHexChars = 24

/**
 * The id of a run's payout to a merchant. Derived, so a run decided again after a concurrency
 * conflict schedules the same payouts; nothing needs it to be secret.
 */
export const payoutIdFor = (runId: string, merchantId: string): Id =>
  `po-${createHash('sha256')
    .update(`${runId}/${merchantId}`)
    .digest('hex')
    .slice(0, payoutIdHexChars)}` as Id

/**
 * Schedules a payout for every merchant owed more than zero, by merchant id, and records the
 * run. `owedByMerchant` is what each merchant is owed now, as the shell folds it from the
 * postings. Refuses a run id already recorded (`already_exists`: its answer is kept by the
 * shell's idempotency, not here), then a bad time (`invalid_time`). A run with nobody owed is
 * still recorded, with no payouts.
 */
export const decideRunPayouts = (
  command: RunPayouts,
  ledger: PayoutsLedgerState,
  owedByMerchant: ReadonlyMap<string, Cents>,
  context: CommandContext,
): E.Either<Rejection, Decision<RunPayoutsResponse>> => {
  if (ledger.runIds.has(command.runId)) {
    return E.left(reject('already_exists', `payout run ${command.runId} already ran`))
  }
  const timeProblem = timeRejection(context, ledger.lastOccurredAt)
  if (timeProblem !== undefined) return E.left(timeProblem)

  const payouts = scheduledPayouts(command.runId, owedByMerchant)
  const totalCents = payouts.reduce(
    (sumCents, payout) => addCents(sumCents, payout.amountCents),
    zeroCents,
  )
  const completed: EventDataOf<'PayoutRunCompleted'> = {
    runId: command.runId,
    payoutIds: payouts.map((payout) => payout.payoutId),
    totalCents,
  }
  return E.right({
    appends: [
      ...payouts.map((payout) => ({
        streamId: streams.payout(payout.payoutId),
        events: [
          { type: 'PayoutScheduled', data: { ...payout, runId: command.runId } } as LedgerEvent,
        ],
      })),
      {
        streamId: streams.payoutsLedger(),
        events: [{ type: 'PayoutRunCompleted', data: completed }],
      },
    ],
    response: { payouts },
  })
}

/** One payout per merchant owed more than zero, sorted by merchant id in code-unit order. */
const scheduledPayouts = (
  runId: Id,
  owedByMerchant: ReadonlyMap<string, Cents>,
): ScheduledPayout[] =>
  [...owedByMerchant]
    .map(([merchantId, owedCents]) => {
      assert.match(merchantId, idPattern, 'owed to a merchant id that is not an id')
      return { merchantId, owedCents: cents(owedCents) }
    })
    .filter(({ owedCents }) => owedCents > 0)
    .sort((a, b) => (a.merchantId < b.merchantId ? -1 : a.merchantId > b.merchantId ? 1 : 0))
    .map(({ merchantId, owedCents }) => ({
      payoutId: payoutIdFor(runId, merchantId),
      merchantId: merchantId as Id,
      amountCents: owedCents,
    }))

/**
 * Records a processor notice. Refuses an unknown payout (`not_found`) and a notice stated in
 * the future (`invalid_time`); unlike other commands, a notice older than the payout's last
 * event is accepted, since processors deliver late and out of order. A processor event id
 * already recorded on the payout appends nothing and answers `duplicate`. Otherwise the notice
 * is recorded, and the status follows the notice with the latest `noticeOccurredAt` (a failure
 * wins a tie): paid then failed ends failed, owed again, whichever arrives first.
 */
export const decideRecordPayoutNotice = (
  command: RecordPayoutNotice,
  payout: PayoutState,
  context: CommandContext,
): E.Either<Rejection, Decision<RecordPayoutNoticeResponse>> => {
  if (!payout.scheduled) {
    return E.left(reject('not_found', `payout ${command.payoutId} does not exist`))
  }
  assert.equal(payout.payoutId, command.payoutId, 'notice read another payout')
  if (payout.processorEventIds.has(command.processorEventId)) {
    return E.right({ appends: [], response: { status: 'duplicate' } })
  }
  const timeProblem = timeRejection(context, null)
  if (timeProblem !== undefined) return E.left(timeProblem)
  if (epochMsOf(command.noticeOccurredAt) > epochMsOf(context.recordedAt)) {
    return E.left(reject('invalid_time', `notice at ${command.noticeOccurredAt} is in the future`))
  }

  const notice: LatestNotice = {
    outcome: command.outcome,
    noticeOccurredAt: command.noticeOccurredAt,
  }
  const recorded: EventDataOf<'PayoutNoticeRecorded'> = {
    payoutId: payout.payoutId,
    merchantId: payout.merchantId,
    amountCents: payout.amountCents,
    processorEventId: command.processorEventId,
    outcome: command.outcome,
    reason: command.reason,
    noticeOccurredAt: command.noticeOccurredAt,
    statusBefore: payout.status,
    statusAfter: supersedes(notice, payout.latestNotice) ? command.outcome : payout.status,
  }
  return E.right({
    appends: [
      {
        streamId: streams.payout(payout.payoutId),
        events: [{ type: 'PayoutNoticeRecorded', data: recorded }],
      },
    ],
    response: { status: 'recorded' },
  })
}
