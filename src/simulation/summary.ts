import type { StepKind } from './plan'
import { renderReport } from './report'
import type { SeasonOutcome } from './season'

/**
 * What a finished season prints: the report's tables, then what was sent and how long it took,
 * then every check that failed with the request and the answer, so a refusal can be replayed
 * by hand with curl.
 */
export const seasonSummary = (outcome: SeasonOutcome): string => {
  const lines: string[] = []
  if (outcome.report !== null) {
    lines.push(renderReport(outcome.report, outcome.identityProblems.length === 0))
  }
  lines.push(sizeLine(outcome))
  if (outcome.run.rerun) {
    const { repeated } = outcome.run
    lines.push(`the season was in the ledger already: ${repeated} writes answered as repeats (200)`)
  }
  for (const failure of outcome.run.failures) {
    lines.push(`FAILED ${failure.step}`)
    if (failure.request !== '') lines.push(`  request: ${failure.request}`)
    lines.push(`  problem: ${failure.problem}`)
    if (failure.answer !== undefined) {
      lines.push(`  answer: ${failure.answer.slice(0, answerCharsMax)}`)
    }
    if (failure.kind === 'payoutRun' && failure.answer?.includes('"invalid_time"')) {
      lines.push(`  note: ${anotherSeasonNote}`)
    }
  }
  if (outcome.reportProblem !== null) lines.push(`report: ${outcome.reportProblem}`)
  for (const problem of outcome.identityProblems) lines.push(`IDENTITY BROKEN: ${problem}`)
  for (const problem of outcome.figureProblems) lines.push(`FIGURE DIFFERS: ${problem}`)
  lines.push(
    outcome.ok ? 'season OK: every answer and the report as the rules say' : 'season FAILED',
  )
  return lines.join('\n')
}

/**
 * A payout run refused for its time means the ledger's payout runs are later than this season's:
 * the ledger holds another season (see `runSeason`).
 */
const anotherSeasonNote =
  'payout runs share one stream for the whole ledger, which holds a later season already; ' +
  'play another seed or size on a fresh store'

/** Answers are shown up to this length: enough for a problem document, not a whole export. */
const answerCharsMax = 600

const sizeLine = (outcome: SeasonOutcome): string => {
  const { plan, run } = outcome
  const count = (kind: StepKind) => plan.steps.filter((step) => step.kind === kind).length
  const seconds = (outcome.elapsedMs / 1000).toFixed(1)
  return [
    `seed ${plan.options.seed}: ${plan.participatingMerchantIds.length} merchants`,
    `${plan.options.customers} customers, ${count('purchase')} purchases,`,
    `${count('redeem')} redemptions, ${count('refund')} refunds,`,
    `${count('moveStock')} stock moves;`,
    `${run.requests} requests (${run.refusedAsPlanned} refused as planned) in ${seconds} s`,
  ].join(' ')
}
