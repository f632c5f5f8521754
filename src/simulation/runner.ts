import { TransportError, type Answer, type LedgerClient } from './client'
import type { ExpectedRefusal, SeasonPlan, Step } from './plan'
import { checkStepAnswer, type StepContext } from './step-checks'

/**
 * Sends a season's plan to the service and checks every answer. Steps leave in plan order
 * (time order); independent ones run concurrently, but every step waits for the steps before
 * it on the same "lane" (the programme, a voucher, an article's stock), so each stream of the
 * ledger receives the same requests in the same order whatever the concurrency, and the
 * ledger comes out the same. Steps that read the whole ledger (payout runs, the expiry run)
 * or change what others may do (the suspension) wait for everything before them.
 *
 * Every purchase waits for the one before it (they share the programme's stream), so they make
 * the longest chain of the season. While one waits, steps further down the plan whose lanes are
 * free go ahead (up to `stepsAheadMax` of them waiting at once); and when more steps are ready
 * than may be in flight, the earliest in the plan is sent first, so the chain is never held up
 * by what comes after it.
 */
export interface RunOptions {
  readonly client: LedgerClient
  /** Requests in flight at most; steps waiting for their lane do not count. */
  readonly concurrency: number
  readonly onStep?: (done: number, step: Step) => void
}

/** Something the service did that the rules say it must not have: the run fails. */
export interface Failure {
  readonly kind: Step['kind']
  readonly step: string
  readonly request: string
  readonly problem: string
  readonly answer?: string
}

export interface RunResult {
  readonly failures: readonly Failure[]
  /** The ledger position of the last write answered, for reads that must see it. */
  readonly lastPosition: number
  readonly stepsDone: number
  readonly requests: number
  /** Writes answered 200: the same request had been accepted before (a re-run). */
  readonly repeated: number
  readonly refusedAsPlanned: number
  /** Whether the season's programme was already there: the run repeats an earlier one. */
  readonly rerun: boolean
}

/** After this many failures nothing new is sent: what follows the first ones only cascades. */
const failuresMax = 10

/**
 * Steps dispatched and not yet done (waiting for their lane, or sent), at most: about ten days
 * of the default season, so while purchases wait for each other there is always other traffic
 * to send; more would only pile up promises.
 */
const stepsAheadMax = 2_000

export const runPlan = async (plan: SeasonPlan, options: RunOptions): Promise<RunResult> => {
  const runner = new PlanRunner(plan, options)
  await runner.run()
  return runner.result()
}

class PlanRunner implements StepContext {
  readonly voucherIds = new Map<string, { voucherId: string; bonusVoucherId: string | null }>()
  readonly payoutIds = new Map<string, string>()
  readonly failures: Failure[] = []
  rerun = false
  lastPosition = 0
  requests = 0
  repeated = 0
  refusedAsPlanned = 0
  private stepsDone = 0
  private readonly lanes = new Map<string, Promise<void>>()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly ahead = new Slots(stepsAheadMax)
  private readonly wire: Slots
  private seasonStarted = false

  constructor(
    private readonly plan: SeasonPlan,
    readonly options: RunOptions,
  ) {
    this.wire = new Slots(options.concurrency)
  }

  get client(): LedgerClient {
    return this.options.client
  }

  async run(): Promise<void> {
    for (const [index, step] of this.plan.steps.entries()) {
      if (this.failures.length > 0) break
      if (this.needsBarrier(step)) {
        await this.drain()
        if (this.failures.length > 0) break
        await this.execute(step)
        continue
      }
      await this.ahead.take(index)
      this.dispatch(index, step)
    }
    await this.drain()
  }

  result(): RunResult {
    return {
      failures: this.failures,
      lastPosition: this.lastPosition,
      stepsDone: this.stepsDone,
      requests: this.requests,
      repeated: this.repeated,
      refusedAsPlanned: this.refusedAsPlanned,
      rerun: this.rerun,
    }
  }

  /** Records what an answer says about the run: its position, whether it was a repeat. */
  noteAnswer(answer: Answer): void {
    this.requests += 1
    if (answer.status === 200 && answer.body.status === undefined) this.repeated += 1
    const position = answer.body.position
    if (typeof position === 'number' && position > this.lastPosition) this.lastPosition = position
  }

  fail(step: Step, request: string, problem: string, answer?: Answer): void {
    if (this.failures.length >= failuresMax) return
    const failure: Failure = { kind: step.kind, step: describeStep(step), request, problem }
    this.failures.push(answer === undefined ? failure : { ...failure, answer: answer.text })
  }

  /**
   * Whether a refusal answers as planned. Every write states its instant, and a re-run states
   * instants the streams have passed already, so there a refusal for the time is as good as the
   * planned one (accepted writes are repeats, answered before the time is looked at).
   */
  refusedAs(expected: ExpectedRefusal, answer: Answer): boolean {
    const code = answer.body.code
    if (answer.status !== 422) return false
    return code === expected.code || (this.rerun && code === 'invalid_time')
  }

  private needsBarrier(step: Step): boolean {
    if (step.kind === 'purchase' && !this.seasonStarted) {
      this.seasonStarted = true
      return true
    }
    return barrierKinds.has(step.kind)
  }

  private dispatch(index: number, step: Step): void {
    const lanes = lanesOf(step)
    const before = Promise.all(lanes.map((lane) => this.lanes.get(lane)))
    const running: Promise<void> = before.then(() => this.send(index, step))
    for (const lane of lanes) this.lanes.set(lane, running)
    this.inFlight.add(running)
    void running.finally(() => {
      this.inFlight.delete(running)
      this.ahead.give()
      for (const lane of lanes) if (this.lanes.get(lane) === running) this.lanes.delete(lane)
    })
  }

  /** Executes a step once one of the requests in flight allowed is free. */
  private async send(index: number, step: Step): Promise<void> {
    await this.wire.take(index)
    try {
      await this.execute(step)
    } finally {
      this.wire.give()
    }
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight)
  }

  /** Sends one step and checks its answer; never throws, a failure is recorded instead. */
  private async execute(step: Step): Promise<void> {
    if (this.failures.length > 0) return
    try {
      await checkStepAnswer(this, step)
    } catch (error) {
      const problem = error instanceof TransportError ? error.message : String(error)
      this.fail(step, '', `no answer: ${problem}`)
    }
    this.stepsDone += 1
    this.options.onStep?.(this.stepsDone, step)
  }
}

/**
 * A fixed number of slots; when none is free, the caller with the lowest rank (the earliest
 * step of the plan) gets the next one.
 */
class Slots {
  private readonly waiting: { readonly rank: number; readonly resume: () => void }[] = []

  constructor(private free: number) {}

  take(rank: number): Promise<void> {
    if (this.free > 0) {
      this.free -= 1
      return Promise.resolve()
    }
    return new Promise((resume) => {
      let at = this.waiting.length
      while (at > 0 && (this.waiting[at - 1]?.rank ?? 0) > rank) at -= 1
      this.waiting.splice(at, 0, { rank, resume })
    })
  }

  give(): void {
    const next = this.waiting.shift()
    if (next === undefined) this.free += 1
    else next.resume()
  }
}

/** Steps that wait for everything before them and that nothing after them overtakes. */
const barrierKinds = new Set<Step['kind']>([
  'createProgramme',
  'suspend',
  'payoutRun',
  'settle',
  'expiryRun',
])

/**
 * The lanes of a step: one per ledger stream it appends to (or whose state it must find
 * settled), so steps on one stream keep their plan order.
 */
const lanesOf = (step: Step): readonly string[] => {
  switch (step.kind) {
    case 'registerMerchant':
      return [`merchant:${step.body.merchantId}`]
    case 'purchase':
      return [
        'programme',
        `merchant:${step.body.merchantId}`,
        `voucher:${step.body.purchaseId}:purchased`,
        `voucher:${step.body.purchaseId}:bonus`,
      ]
    case 'redeem':
      return [`voucher:${step.purchaseId}:${step.voucherKind}`]
    case 'refund':
      return [
        'programme',
        `voucher:${step.purchaseId}:purchased`,
        `voucher:${step.purchaseId}:bonus`,
      ]
    case 'moveStock':
      return [`merchant:${step.merchantId}`, `stock:${step.merchantId}:${step.body.sku}`]
    default:
      // The other kinds are barriers: they run alone, after everything before them.
      return []
  }
}

/** A step in a line: what it is, when in the season, and its main id. */
export const describeStep = (step: Step): string => {
  const at = new Date(step.atMs).toISOString()
  switch (step.kind) {
    case 'createProgramme':
      return `${at} create programme ${step.body.programmeId}`
    case 'registerMerchant':
      return `${at} register merchant ${step.body.merchantId}`
    case 'purchase':
      return `${at} purchase ${step.body.purchaseId} at ${step.body.merchantId}`
    case 'redeem':
      return `${at} redeem ${step.voucherKind} of ${step.purchaseId} at ${step.body.merchantId}`
    case 'refund':
      return `${at} refund ${step.purchaseId}`
    case 'moveStock':
      return `${at} stock ${step.body.kind} ${step.body.quantity} at ${step.merchantId}`
    case 'suspend':
      return `${at} suspend ${step.merchantId}`
    case 'payoutRun':
      return `${at} payout run ${step.runId}`
    case 'settle':
      return `${at} settlement of ${step.runId}`
    case 'expiryRun':
      return `${at} expiry run ${step.runId}`
  }
}
