import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { assembleService, type LedgerService } from '../app/assemble'
import { ConfigError, loadConfig } from '../config'
import { createLogger } from '../logging'
import { generateSeason } from '../simulation/generator'
import { addSeasonFlags, seasonOptionsOf, type SeasonFlags } from '../simulation/options'
import { createProgress } from '../simulation/progress'
import { runSeason } from '../simulation/season'
import { seasonSummary } from '../simulation/summary'

/**
 * `npm run demo`, the README's first command: makes demo API keys and a processor secret under
 * ./data (once), starts the ledger service in this process on the embedded store, plays the
 * default season against it over HTTP, prints the funding report and where to look, and keeps
 * serving until Ctrl-C. Run again, it finds the season in the ledger and every write answers as
 * a repeat. The service keeps the real clock: the season is 2025's, and every write states the
 * instant it happened, as a client of a service started with `npm start` does.
 */
interface DemoFlags extends SeasonFlags {
  readonly dataDir: string
  readonly exit: boolean
}

interface DemoKey {
  readonly key: string
  readonly role: 'operator' | 'processor' | 'auditor' | 'dashboard' | 'merchant'
  readonly merchantId?: string
}

/** 32 random bytes, hex: as strong as the HMAC key and the API keys need. */
const secretBytes = 32

const program = (): Command =>
  addSeasonFlags(
    new Command('demo')
      .description('Start the ledger on the embedded store, play a season against it, keep serving')
      .addOption(
        new Option('--data-dir <dir>', 'where the ledger, keys and secret live').default('./data'),
      )
      .addOption(new Option('--exit', 'stop after the season instead of serving').default(false)),
  )
    .exitOverride()
    .showHelpAfterError()

/** The demo keys, made with random keys the first time and read back afterwards. */
const demoKeys = (path: string, merchantId: string): DemoKey[] => {
  if (existsSync(path)) {
    const keys = JSON.parse(readFileSync(path, 'utf8')) as DemoKey[]
    const roles = new Set(keys.map((k) => k.role))
    const needed: DemoKey['role'][] = ['operator', 'processor', 'auditor']
    const missing = needed.filter((role) => !roles.has(role))
    if (missing.length > 0) {
      const problem = `${path}: no ${missing.join(', ')} key; delete the file to have one made`
      throw new ConfigError([problem])
    }
    return keys
  }
  const key = () => randomBytes(secretBytes).toString('hex')
  const keys: DemoKey[] = [
    { key: key(), role: 'operator' },
    { key: key(), role: 'processor' },
    { key: key(), role: 'auditor' },
    { key: key(), role: 'dashboard' },
    { key: key(), role: 'merchant', merchantId },
  ]
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 })
  return keys
}

const demoSecret = (path: string): string => {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  const secret = randomBytes(secretBytes).toString('hex')
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${secret}\n`, { mode: 0o600 })
  return secret
}

const keyOf = (keys: readonly DemoKey[], role: DemoKey['role']): string =>
  keys.find((k) => k.role === role)?.key ?? ''

const main = async (argv: readonly string[]): Promise<number> => {
  const command = program()
  try {
    command.parse(argv)
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
    throw error
  }
  const flags = command.opts<DemoFlags>()
  const options = seasonOptionsOf(flags)
  const plan = generateSeason(options)
  const keysPath = resolve(flags.dataDir, 'demo-keys.json')
  const secretPath = resolve(flags.dataDir, 'demo-processor.secret')
  const keys = demoKeys(keysPath, plan.sampleMerchantId)
  const processorSecret = demoSecret(secretPath)

  const config = loadConfig({
    ...process.env,
    LEDGER_STORE: process.env.LEDGER_STORE || `sqlite:${resolve(flags.dataDir, 'ledger.db')}`,
    LEDGER_API_KEYS_FILE: keysPath,
    LEDGER_PROCESSOR_SECRET: processorSecret,
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
  })
  const service = await assembleService(config, createLogger(config.logLevel))
  stopOnSignals(service)
  const url = await service.app.listen({ port: config.port, host: config.host })
  process.stdout.write(`ledger listening at ${url} (store ${config.storeUrl})\n`)

  const outcome = await runSeason({
    options,
    plan,
    access: {
      url,
      operatorKey: keyOf(keys, 'operator'),
      processorKey: keyOf(keys, 'processor'),
      processorSecret,
    },
    concurrency: flags.concurrency,
    progress: (total) => createProgress(total),
  })
  process.stdout.write(`${seasonSummary(outcome)}\n\n`)
  process.stdout.write(whereToLook(url, plan.programmeId, keys, keysPath, secretPath))
  if (flags.exit) {
    await service.close()
    return outcome.ok ? 0 : 1
  }
  process.stdout.write('Serving until Ctrl-C.\n')
  return new Promise<number>(() => undefined)
}

const whereToLook = (
  url: string,
  programmeId: string,
  keys: readonly DemoKey[],
  keysPath: string,
  secretPath: string,
): string => {
  const auditor = `-H 'Authorization: Bearer ${keyOf(keys, 'auditor')}'`
  const merchant = keys.find((k) => k.role === 'merchant')
  return [
    'Where to look:',
    `  API documentation   ${url}/docs`,
    `  funding report      curl ${auditor} ${url}/v1/programmes/${programmeId}/report`,
    `  same, as CSV        curl ${auditor} ${url}/v1/programmes/${programmeId}/report.csv`,
    `  verify the ledger   curl ${auditor} ${url}/v1/ledger/verification`,
    `  export (hledger)    curl ${auditor} '${url}/v1/ledger/export?format=hledger'`,
    ...(merchant?.merchantId === undefined
      ? []
      : [
          `  a merchant's view   curl -H 'Authorization: Bearer ${merchant.key}' ` +
            `${url}/v1/merchants/${merchant.merchantId}/balance`,
        ]),
    `  API keys            ${keysPath} (operator, processor, auditor, dashboard, merchant)`,
    `  processor secret    ${secretPath}`,
    '',
  ].join('\n')
}

/** Ctrl-C and SIGTERM stop the service cleanly: requests drain, the log is sealed. */
const stopOnSignals = (service: LedgerService): void => {
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    service.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message =
      error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error))
    process.stderr.write(`demo failed: ${message}\n`)
    process.exit(2)
  },
)
