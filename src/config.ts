import { existsSync } from 'node:fs'

/**
 * Configuration comes from the environment only. A bad value stops the service at start with a
 * message that names the variable and says what to put there, never a stack trace later.
 */
export interface RateLimits {
  /** Requests per second per key for operator and processor keys: bulk traffic by design. */
  readonly trustedPerSecond: number
  /** Requests per second per key for merchant, auditor and dashboard keys. */
  readonly keyedPerSecond: number
  /** Requests per second per address without a valid key. */
  readonly anonymousPerSecond: number
}

export interface Config {
  readonly port: number
  readonly host: string
  readonly storeUrl: string
  readonly projectionsPath: string
  readonly apiKeysFile: string | undefined
  readonly processorSecret: string | undefined
  /** Keys the voucher ids; a stable secret, so a retried purchase gets the same ids. */
  readonly voucherIdSecret: string | undefined
  readonly logLevel: string
  readonly sealIntervalEvents: number
  readonly sealIntervalMs: number
  readonly rateLimits: RateLimits
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const storePrefixes = [
  'sqlite:',
  'esdb://',
  'esdb+discover://',
  'kurrentdb://',
  'kurrentdb+discover://',
]

/** Reads and checks every variable, collecting all problems before failing. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const problems: string[] = []
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name}=${raw}: expected a whole number from ${min} to ${max}`)
      return fallback
    }
    return value
  }

  const storeUrl = env.LEDGER_STORE || 'sqlite:./data/ledger.db'
  if (!storePrefixes.some((prefix) => storeUrl.startsWith(prefix))) {
    problems.push(
      `LEDGER_STORE=${storeUrl}: expected sqlite:<path> ` +
        'or a kurrentdb:// (esdb://) connection string',
    )
  }
  const apiKeysFile = env.LEDGER_API_KEYS_FILE || undefined
  if (apiKeysFile !== undefined && !existsSync(apiKeysFile)) {
    problems.push(`LEDGER_API_KEYS_FILE=${apiKeysFile}: no such file`)
  }
  const logLevel = env.LOG_LEVEL || 'info'
  if (!logLevels.includes(logLevel)) {
    problems.push(`LOG_LEVEL=${logLevel}: expected one of ${logLevels.join(', ')}`)
  }
  const processorSecret = env.LEDGER_PROCESSOR_SECRET || undefined
  if (processorSecret !== undefined && processorSecret.length < processorSecretLengthMin) {
    problems.push(
      `LEDGER_PROCESSOR_SECRET: at least ${processorSecretLengthMin} characters, ` +
        'to resist guessing',
    )
  }

  const config: Config = {
    port: integer('PORT', 3000, 0, 65_535),
    host: env.HOST || '127.0.0.1',
    storeUrl,
    projectionsPath: env.LEDGER_PROJECTIONS || defaultProjectionsPath(storeUrl),
    apiKeysFile,
    processorSecret,
    voucherIdSecret: env.LEDGER_VOUCHER_ID_SECRET || undefined,
    logLevel,
    sealIntervalEvents: integer('LEDGER_SEAL_INTERVAL_EVENTS', 10_000, 1, 10_000_000),
    sealIntervalMs: integer('LEDGER_SEAL_INTERVAL_MS', 60_000, 100, 86_400_000),
    rateLimits: {
      trustedPerSecond: integer('LEDGER_RATE_LIMIT_TRUSTED_PER_SECOND', 50_000, 1, 10_000_000),
      keyedPerSecond: integer('LEDGER_RATE_LIMIT_KEYED_PER_SECOND', 200, 1, 10_000_000),
      anonymousPerSecond: integer('LEDGER_RATE_LIMIT_ANONYMOUS_PER_SECOND', 20, 1, 10_000_000),
    },
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

/** A secret shorter than this is guessable; 32 characters is what `openssl rand -hex 16` gives. */
const processorSecretLengthMin = 16

/** Projections live beside an embedded store's file, or under ./data for a cluster. */
const defaultProjectionsPath = (storeUrl: string): string => {
  if (!storeUrl.startsWith('sqlite:')) return './data/projections.db'
  const ledgerPath = storeUrl.slice('sqlite:'.length)
  if (ledgerPath === ':memory:') return ':memory:'
  return ledgerPath.replace(/(\.db)?$/, '.projections.db')
}
