import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { benchAppends } from './appends'
import { buildService } from './child'
import { benchHttp } from './http'
import { ensureLog } from './log'
import { benchReplay, type ReplayResults } from './replay'
import { appendReport, describeMachine, writeResults, type RunFigures } from './report'
import { cacheDir, scratchDir } from './settings'
import { benchStartup } from './startup'
import { progress } from './stats'

/**
 * `npm run bench`: every figure of issue 7 in one run, each beside its baseline measured in the
 * same run, then results.json and a new section of BENCHMARKS.md. A part that fails (a piece of
 * the service not ready, a server that does not start) is reported and the others still run.
 *
 * Options, for working on one figure:
 *   --only appends,http,replay,startup   run these parts only; nothing is recorded
 *   --profile                            start the service children with --cpu-prof into
 *                                        bench/.cache/profiles (see bench/cpu-profile.ts)
 */

const parts = ['appends', 'http', 'replay', 'startup'] as const
type Part = (typeof parts)[number]

const parseArgs = (argv: readonly string[]): { only: readonly Part[]; profile: boolean } => {
  const onlyIndex = argv.indexOf('--only')
  const only =
    onlyIndex < 0
      ? parts
      : (argv[onlyIndex + 1] ?? '').split(',').filter((p): p is Part => parts.includes(p as Part))
  if (only.length === 0) throw new Error(`--only takes some of ${parts.join(',')}`)
  return { only, profile: argv.includes('--profile') }
}

const profileDir = join(cacheDir, 'profiles')

const main = async (): Promise<void> => {
  const options = parseArgs(process.argv.slice(2))
  const machine = describeMachine()
  const startMs = Date.now()
  const nodeFlags = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : undefined
  if (options.profile) mkdirSync(profileDir, { recursive: true })
  const failures: string[] = []
  const attempt = async <T>(part: Part, run: () => Promise<T>): Promise<T | undefined> => {
    if (!options.only.includes(part)) return undefined
    progress(`${part}...`)
    try {
      return await run()
    } catch (error) {
      const detail = (error as Error).stack ?? String(error)
      failures.push(`${part}: ${(error as Error).message.split('\n')[0] ?? ''}`)
      progress(`${part} failed: ${detail}`)
      return undefined
    }
  }

  const appends = await attempt('appends', () => benchAppends())
  if (options.only.includes('http') || options.only.includes('startup')) {
    progress('compiling the service (npm run build)...')
    buildService()
  }
  const http = await attempt('http', () => benchHttp({ nodeFlags }))
  // The log serves the replay and the cold start; it is attempted under the first that runs.
  const logPart: Part = options.only.includes('replay') ? 'replay' : 'startup'
  const log = await attempt(logPart, () => ensureLog())
  let replay: ReplayResults | undefined
  if (log !== undefined) {
    // The cold start needs projections at the head of the log: one rebuild makes them.
    replay = options.only.includes('replay')
      ? await attempt('replay', () => benchReplay(log))
      : await attempt('startup', () => benchReplay(log, ['rebuild'], 1))
  }
  const startup =
    log !== undefined && replay !== undefined
      ? await attempt('startup', () => benchStartup(log, replay.projectionsPath, nodeFlags))
      : undefined
  rmSync(scratchDir, { recursive: true, force: true })

  const figures: RunFigures = {
    appends,
    http,
    replay: options.only.includes('replay') ? replay : undefined,
    startup,
    failures,
  }
  const durationS = (Date.now() - startMs) / 1000
  if (options.only.length < parts.length) {
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`)
    return
  }
  writeResults(figures, machine)
  process.stdout.write(appendReport(figures, machine, durationS))
  if (failures.length > 0) process.exitCode = 1
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
