import { LedgerClient, type ServiceAccess } from './client'
import { generateSeason } from './generator'
import type { SeasonOptions, SeasonPlan } from './plan'
import { silentProgress, type Progress } from './progress'
import {
  fetchReport,
  figureProblems,
  identityProblems,
  type FundingReport,
} from './report'
import { runPlan, type RunResult } from './runner'

/**
 * A whole season against a running service: plan it from the seed, send it, read the funding
 * report once the projections have caught up with the last write, and check it. The command
 * line, the demo and the end-to-end test all run a season through here.
 *
 * Known shortcoming: a ledger takes one simulated season, and re-runs of it. Payout runs pay
 * every merchant owed whatever the programme, on one stream for the whole ledger, so another
 * seed or size played on a ledger that holds a season is refused at its first payout run
 * (`invalid_time`: the stream holds the first season's later runs), and its payouts would
 * include the first season's merchants anyway. Another season needs a fresh store.
 */
export interface SeasonRequest {
  readonly options: SeasonOptions
  readonly access: ServiceAccess
  readonly concurrency: number
  /**
   * The clock processor signatures are dated by: the service refuses one more than five
   * minutes off its own clock, so a service in the same process on a clock of its own (a test's)
   * is signed for by that clock. The real time when absent.
   */
  readonly signingNowMs?: () => number
  readonly progress?: (totalSteps: number) => Progress
  /** The plan of `options`, when the caller made it already (the demo reads ids from it). */
  readonly plan?: SeasonPlan
}

export interface SeasonOutcome {
  readonly plan: SeasonPlan
  readonly run: RunResult
  readonly report: FundingReport | null
  /** Why the report could not be read, when it could not. */
  readonly reportProblem: string | null
  readonly identityProblems: readonly string[]
  readonly figureProblems: readonly string[]
  readonly elapsedMs: number
  /** Everything accepted and refused as the rules say, and the report checks out. */
  readonly ok: boolean
}

export const runSeason = async (request: SeasonRequest): Promise<SeasonOutcome> => {
  const startedMs = performance.now()
  const plan = request.plan ?? generateSeason(request.options)
  const client = new LedgerClient(request.access, request.signingNowMs ?? Date.now)
  const progress = request.progress?.(plan.steps.length) ?? silentProgress

  const { run, report, problem } = await playAndRead(plan, request, client, progress).finally(
    () => client.close(),
  )
  const identities = report === null ? [] : identityProblems(report)
  const figures = report === null ? [] : figureProblems(report, plan.expectedFigures)
  return {
    plan,
    run,
    report,
    reportProblem: problem,
    identityProblems: identities,
    figureProblems: figures,
    elapsedMs: Math.round(performance.now() - startedMs),
    ok:
      run.failures.length === 0 &&
      report !== null &&
      identities.length === 0 &&
      figures.length === 0,
  }
}

const playAndRead = async (
  plan: SeasonPlan,
  request: SeasonRequest,
  client: LedgerClient,
  progress: Progress,
) => {
  const run = await runPlan(plan, {
    client,
    concurrency: request.concurrency,
    onStep: (done, step) => progress.update(done, step),
  }).finally(() => progress.stop())
  const { report, problem } =
    run.failures.length > 0
      ? { report: null, problem: 'not read: the season did not run to its end' }
      : await fetchReport(client, plan.programmeId, run.lastPosition)
  return { run, report, problem }
}
