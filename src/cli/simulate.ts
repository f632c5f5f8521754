import { Command, CommanderError, Option } from 'commander'
import { addSeasonFlags, seasonOptionsOf, type SeasonFlags } from '../simulation/options'
import { createProgress } from '../simulation/progress'
import { runSeason } from '../simulation/season'
import { seasonSummary } from '../simulation/summary'

/**
 * `npm run simulate`: plays a season of the Moselle Sud scheme against a running ledger service,
 * through its HTTP API only, and checks every answer and the final funding report. Exit codes:
 * 0 the season ran as the rules say, 1 the service refused or answered something it should
 * not have (each listed with its request and answer), 2 the command could not run.
 */
interface SimulateFlags extends SeasonFlags {
  readonly url: string
  readonly operatorKey?: string
  readonly processorKey?: string
  readonly processorSecret?: string
}

const program = (): Command =>
  addSeasonFlags(
    new Command('simulate')
      .description('Play a season of the Moselle Sud voucher scheme against a running ledger')
      .addOption(
        new Option('--url <url>', 'the ledger service')
          .env('LEDGER_URL')
          .default('http://127.0.0.1:3000'),
      )
      .addOption(
        new Option('--operator-key <key>', 'an operator API key').env('LEDGER_OPERATOR_KEY'),
      )
      .addOption(
        new Option('--processor-key <key>', 'a processor API key').env('LEDGER_PROCESSOR_KEY'),
      )
      .addOption(
        new Option('--processor-secret <secret>', 'the processor signing secret').env(
          'LEDGER_PROCESSOR_SECRET',
        ),
      ),
  )
    .exitOverride()
    .showHelpAfterError()

const main = async (argv: readonly string[]): Promise<number> => {
  const command = program()
  try {
    command.parse(argv)
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    throw error
  }
  const flags = command.opts<SimulateFlags>()
  const missing = (
    [
      ['--operator-key', flags.operatorKey],
      ['--processor-key', flags.processorKey],
      ['--processor-secret', flags.processorSecret],
    ] as const
  ).filter(([, value]) => value === undefined || value === '')
  if (missing.length > 0) {
    const names = missing.map(([name]) => name).join(', ')
    process.stderr.write(`missing ${names} (or its LEDGER_ variable)\n`)
    return 2
  }

  const options = seasonOptionsOf(flags)
  process.stdout.write(`season of seed ${options.seed} against ${flags.url}\n`)
  const outcome = await runSeason({
    options,
    access: {
      url: flags.url,
      operatorKey: flags.operatorKey ?? '',
      processorKey: flags.processorKey ?? '',
      processorSecret: flags.processorSecret ?? '',
    },
    concurrency: flags.concurrency,
    progress: (total) => createProgress(total),
  })
  process.stdout.write(`${seasonSummary(outcome)}\n`)
  return outcome.ok ? 0 : 1
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`simulate failed: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(2)
  },
)
