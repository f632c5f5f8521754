import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import type { AppendResults } from './appends'
import type { HttpResults } from './http'
import type { ReplayResults } from './replay'
import {
  appendRatioTarget,
  coldStartMsMax,
  purchaseP99MsMax,
  purchaseRatioTarget,
  rebuildRatioTarget,
  rssMegabytesMax,
  verifyRatioTarget,
} from './settings'
import type { StartupResults } from './startup'
import { round } from './stats'

/**
 * The record of a run: `bench/results.json` holds the latest figures under fixed keys, and
 * BENCHMARKS.md gains a section per run with every figure beside its baseline, its ratio and
 * its target, and the machine and load it ran on (the machine is shared: the load matters).
 */

export interface RunFigures {
  readonly appends?: AppendResults
  readonly http?: HttpResults
  readonly replay?: ReplayResults
  readonly startup?: StartupResults
  /** Parts that failed, with why; their figures are null in results.json. */
  readonly failures: readonly string[]
}

export interface Machine {
  readonly commit: string
  readonly dirty: boolean
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGigabytes: number
  readonly node: string
  readonly loadAverageStart: string
}

const repoRoot = join(__dirname, '..')

export const describeMachine = (): Machine => ({
  commit: git(['rev-parse', '--short', 'HEAD']),
  dirty: git(['status', '--porcelain']).length > 0,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  cores: cpus().length,
  memoryGigabytes: round(totalmem() / 1024 ** 3, 1),
  node: process.version,
  loadAverageStart: loadAverage(),
})

const git = (args: readonly string[]): string => {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

const loadAverage = (): string =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' ')

/** results.json: exactly the keys of issue 7, null where a part did not run or failed. */
export const writeResults = (figures: RunFigures, machine: Machine): void => {
  const results = {
    appendRatio: fixed(figures.appends?.appendRatio, 3),
    purchaseRatio: fixed(figures.http?.purchaseRatio, 3),
    purchasesPerSecond: fixed(figures.http?.purchasesPerSecond, 0),
    purchaseP50Ms: fixed(figures.http?.purchaseP50Ms, 1),
    purchaseP99Ms: fixed(figures.http?.purchaseP99Ms, 1),
    rebuildRatio: fixed(figures.replay?.rebuildRatio, 3),
    rebuildEventsPerSecond: fixed(figures.replay?.rebuildEventsPerSecond, 0),
    verifyRatio: fixed(figures.replay?.verifyRatio, 3),
    verifyEventsPerSecond: fixed(figures.replay?.verifyEventsPerSecond, 0),
    rssMegabytes: fixed(figures.startup?.rssMegabytes, 0),
    coldStartMs: fixed(figures.startup?.coldStartMs, 0),
    commit: machine.commit,
  }
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`)
}

const fixed = (value: number | undefined, decimals: number): number | null =>
  value === undefined || !Number.isFinite(value) ? null : round(value, decimals)

const benchmarksPath = join(repoRoot, 'BENCHMARKS.md')

const preamble = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts): every run appends a section below with each figure
beside the baseline measured in the same run on the same machine, the ratio and the target of
issue 7. How each figure is measured, and what bounds the ones that miss, is in the notes above
the runs.
`

/** Appends the run's section to BENCHMARKS.md, creating the file when it does not exist. */
export const appendReport = (figures: RunFigures, machine: Machine, durationS: number): string => {
  const section = reportSection(figures, machine, durationS)
  if (!existsSync(benchmarksPath)) writeFileSync(benchmarksPath, preamble)
  appendFileSync(benchmarksPath, `\n${section}`)
  return section
}

type Row = [
  figure: string,
  measured: string,
  baseline: string,
  ratio: string,
  target: string,
  met: string,
]

const reportSection = (figures: RunFigures, machine: Machine, durationS: number): string => {
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16)
  const lines = [
    `## Run of ${date} UTC, commit ${machine.commit}` +
      `${machine.dirty ? ' (uncommitted changes)' : ''}`,
    '',
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGigabytes} GiB, Node ` +
      `${machine.node}; ${Math.round(durationS)} s.`,
    `Load average ${machine.loadAverageStart} at the start, ${loadAverage()} at the end.`,
    '',
    '| figure | measured | baseline (same run) | ratio | target | met |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...[...appendRows(figures.appends), ...httpRows(figures.http), ...replayRows(figures.replay)]
      .concat(startupRows(figures.startup))
      .map((row) => `| ${row.join(' | ')} |`),
  ]
  for (const failure of figures.failures) lines.push('', `Failed: ${failure}`)
  return `${lines.join('\n')}\n`
}

const rate = (value: number): string => `${Math.round(value).toLocaleString('en-US')}/s`
const ratio = (value: number): string => value.toFixed(2)
const met = (ok: boolean): string => (ok ? 'yes' : '**no**')

const appendRows = (appends: AppendResults | undefined): Row[] =>
  (appends?.figures ?? []).flatMap((f) => [
    [
      `store appends, ${f.transactionSize} per transaction, grouped calls`,
      rate(f.groupedRowsPerSecond),
      rate(f.rawGroupedRowsPerSecond),
      ratio(f.groupedRatio),
      `>= ${appendRatioTarget}`,
      met(f.groupedRatio >= appendRatioTarget),
    ],
    [
      `store appends, ${f.transactionSize} per transaction, one call`,
      rate(f.singleRowsPerSecond),
      rate(f.rawSingleRowsPerSecond),
      ratio(f.singleRatio),
      `>= ${appendRatioTarget}`,
      met(f.singleRatio >= appendRatioTarget),
    ],
  ])

const httpRows = (http: HttpResults | undefined): Row[] =>
  http === undefined
    ? []
    : [
        [
          `purchases over HTTP, -c 50 (${http.bodyBytes}-byte bodies)`,
          rate(http.purchasesPerSecond),
          `${rate(http.barePerSecond)} bare route`,
          ratio(http.purchaseRatio),
          `>= ${purchaseRatioTarget}`,
          met(http.purchaseRatio >= purchaseRatioTarget),
        ],
        [
          "raw inserts of a purchase's rows, 20 per commit (ceiling)",
          rate(http.ceilingPerSecond),
          `${rate(http.barePerSecond)} bare route`,
          ratio(http.ceilingPerSecond / http.barePerSecond),
          '',
          '',
        ],
        [
          'server CPU time per request, from /proc (bare/ledger)',
          `${http.ledgerCpuMsPerRequest.toFixed(3)} ms`,
          `${http.bareCpuMsPerRequest.toFixed(3)} ms bare route`,
          ratio(http.bareCpuMsPerRequest / http.ledgerCpuMsPerRequest),
          '',
          '',
        ],
        [
          'purchase latency p50 at a fixed 1,000/s',
          `${http.purchaseP50Ms.toFixed(1)} ms`,
          '',
          '',
          '',
          '',
        ],
        [
          'purchase latency p99 at a fixed 1,000/s',
          `${http.purchaseP99Ms.toFixed(1)} ms`,
          '',
          '',
          `<= ${purchaseP99MsMax} ms`,
          met(http.purchaseP99Ms <= purchaseP99MsMax),
        ],
        [
          'the same, requests that failed (counted as infinitely slow)',
          http.latencyFailures,
          '',
          '',
          '',
          '',
        ],
        [
          'the same, timed by the service: answered within 10 ms (p99 at most)',
          `${(http.serverWithin10MsShare * 100).toFixed(1)} % (${http.serverP99AtMostMs} ms)`,
          '',
          '',
          '',
          '',
        ],
      ]

const replayRows = (replay: ReplayResults | undefined): Row[] =>
  replay === undefined
    ? []
    : [
        [
          'rebuild of every projection, 1M events',
          rate(replay.rebuildEventsPerSecond),
          `${rate(replay.rawEventsPerSecond)} raw read`,
          ratio(replay.rebuildRatio),
          `>= ${rebuildRatioTarget}`,
          met(replay.rebuildRatio >= rebuildRatioTarget),
        ],
        [
          'verification of the whole log, 1M events',
          rate(replay.verifyEventsPerSecond),
          `${rate(replay.rawEventsPerSecond)} raw read`,
          ratio(replay.verifyRatio),
          `>= ${verifyRatioTarget}`,
          met(replay.verifyRatio >= verifyRatioTarget),
        ],
      ]

const startupRows = (startup: StartupResults | undefined): Row[] =>
  startup === undefined
    ? []
    : [
        [
          'resident memory with 1M events (peak)',
          `${Math.round(startup.rssMegabytes)} MB (${Math.round(startup.peakRssMegabytes)} MB)`,
          '',
          '',
          `<= ${rssMegabytesMax} MB`,
          met(startup.rssMegabytes <= rssMegabytesMax),
        ],
        [
          'cold start to ready with 1M events',
          `${Math.round(startup.coldStartMs)} ms`,
          '',
          '',
          `<= ${coldStartMsMax} ms`,
          met(startup.coldStartMs <= coldStartMsMax),
        ],
      ]
