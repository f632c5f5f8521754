import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import pino, { type Logger } from 'pino'
import { exportFormats, exportLedger, isExportFormat, recordedEventOfNdjson } from '../audit/export'
import { auditReadPageSize } from '../audit/limits'
import { readLogFacts, sqlitePathOf } from '../audit/source'
import {
  verifyEventPages,
  verifyLedger,
  type VerificationAnchor,
  type VerificationResult,
} from '../audit/verify'
import { loadConfig } from '../config'
import { redactedPaths } from '../logging'
import { rebuildProjections } from '../projections/rebuild'
import { openEventStore } from '../store/open'
import type { EventStore, RecordedEvent } from '../store/port'

/**
 * The ledger's command line for operators and auditors: verify the log, export it, rebuild the
 * read models. It reads the store directly, without the HTTP service. Results and exports go to
 * stdout (or `--out`), logs to stderr, so the output can be piped. Exit codes: 0 done, 1 the
 * verification found a problem, 2 the command could not run.
 */

const defaultStoreUrl = (): string => process.env.LEDGER_STORE || 'sqlite:./data/ledger.db'

/** Logs on stderr, with the service's redaction policy. */
const cliLogger = (): Logger =>
  pino(
    {
      level: process.env.LOG_LEVEL || 'warn',
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    pino.destination(2),
  )

/**
 * Opens an existing store. Opening a SQLite path creates the file, so a mistyped path would
 * verify an empty ledger as sound: a missing file is refused instead.
 */
const withStore = async <T>(
  storeUrl: string,
  run: (store: EventStore) => Promise<T>,
): Promise<T> => {
  const path = sqlitePathOf(storeUrl)
  if (path !== undefined && path !== ':memory:' && !existsSync(path)) {
    throw new Error(`no ledger at ${path}`)
  }
  const store = await openEventStore(storeUrl, cliLogger())
  try {
    return await run(store)
  } finally {
    await store.close()
  }
}

/** `<position>:<hash>`, as the `lastSeal` of an earlier verification gives them. */
const parseAnchor = (text: string): VerificationAnchor => {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text)
  if (match === null) throw new InvalidArgumentError('expected <position>:<64 hex digits>')
  return { position: Number(match[1]), hash: match[2] as string }
}

const printResult = (result: VerificationResult): void => {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  if (!result.ok) process.exitCode = 1
}

interface VerifyFlags {
  readonly store: string
  readonly anchor?: VerificationAnchor
  readonly ndjson?: string
}

/**
 * Verifies the store, with the facts it keeps beside the events, or an ndjson export away from
 * any store (then a cut tail shows only against an anchor).
 */
const verifyCommand = async (flags: VerifyFlags): Promise<void> => {
  if (flags.ndjson !== undefined) {
    printResult(await verifyEventPages(ndjsonPages(flags.ndjson), { anchor: flags.anchor }))
    return
  }
  const result = await withStore(flags.store, (store) =>
    verifyLedger({ store, facts: readLogFacts(flags.store), anchor: flags.anchor }),
  )
  printResult(result)
}

/** The events of an ndjson export, a page at a time. */
async function* ndjsonPages(path: string): AsyncGenerator<RecordedEvent[], void, undefined> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity })
  let page: RecordedEvent[] = []
  for await (const line of lines) {
    if (line.trim() === '') continue
    page.push(recordedEventOfNdjson(line))
    if (page.length < auditReadPageSize) continue
    yield page
    page = []
  }
  if (page.length > 0) yield page
}

const exportCommand = async (flags: { store: string; format: string; out?: string }) => {
  if (!isExportFormat(flags.format)) {
    throw new InvalidArgumentError(`unknown format ${flags.format}`)
  }
  const format = flags.format
  const out = flags.out
  await withStore(flags.store, async (store) => {
    const chunks = Readable.from(exportLedger(store, format))
    // stdout stays open after the export; a file is closed by the pipeline.
    const destination: Writable = out === undefined ? process.stdout : createWriteStream(out)
    await pipeline(chunks, destination, { end: out !== undefined })
  })
}

/**
 * Where the service keeps its read models for a store: `LEDGER_PROJECTIONS`, or beside an
 * embedded store's file, derived by the service's own configuration, so a rebuild rewrites the
 * file the service reads. A configuration error stops the command rather than rebuilding some
 * other file.
 */
const defaultProjectionsPath = (storeUrl: string): string =>
  loadConfig({ ...process.env, LEDGER_STORE: storeUrl }).projectionsPath

const rebuildCommand = async (flags: { store: string; projections?: string }) => {
  const path = flags.projections ?? defaultProjectionsPath(flags.store)
  const logger = cliLogger()
  const rebuild = (store: EventStore) => rebuildProjections({ store, path, logger })
  const result = await withStore(flags.store, rebuild)
  process.stdout.write(`${JSON.stringify({ projections: path, ...result })}\n`)
}

const storeOption = () =>
  new Option('--store <url>', 'sqlite:<path> or a kurrentdb:// connection string').default(
    defaultStoreUrl(),
    'LEDGER_STORE or sqlite:./data/ledger.db',
  )

export const buildProgram = (): Command => {
  const program = new Command('ledger').description('Moselle Sud voucher ledger: audit and upkeep')
  // Usage errors throw instead of exiting 1, which is kept for "the verification found a problem".
  program.exitOverride()
  program
    .command('verify')
    .description('recheck hashes, order, seals and accounting; exit 1 on the first problem')
    .addOption(storeOption())
    .option('--anchor <position:hash>', 'the lastSeal kept from an earlier run', parseAnchor)
    .option('--ndjson <file>', 'verify an ndjson export instead of the store')
    .action((flags: VerifyFlags) => verifyCommand(flags))
  program
    .command('export')
    .description('the whole ledger as ndjson, postings CSV, an hledger journal or a FEC file')
    .addOption(storeOption())
    .addOption(new Option('--format <format>').choices(exportFormats).makeOptionMandatory())
    .option('--out <file>', 'write to a file instead of stdout')
    .action((flags: { store: string; format: string; out?: string }) => exportCommand(flags))
  program
    .command('rebuild')
    .description('rebuild the read models from position 0 (stop the service first)')
    .addOption(storeOption())
    .option('--projections <path>', "the projections file (default: the service's own)")
    .action((flags: { store: string; projections?: string }) => rebuildCommand(flags))
  return program
}

/** Help and version exit 0; a reader that stopped reading (`| head`) is not a failure. */
const exitCodeOf = (error: unknown): number => {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
  return isBrokenPipe(error) ? 0 : 2
}

const isBrokenPipe = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE'

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.exitCode = exitCodeOf(error)
      if (error instanceof CommanderError || isBrokenPipe(error)) return
      process.stderr.write(`ledger: ${error instanceof Error ? error.message : String(error)}\n`)
    })
}
