import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import * as E from 'fp-ts/Either'
import type { Logger } from 'pino'
import { exportLedger } from '../audit/export'
import { startSealer, type Sealer } from '../audit/seal'
import { readLogFacts } from '../audit/source'
import { verifyLedger } from '../audit/verify'
import { ConfigError, type Config } from '../config'
import { SignatureVerifier, loadKeyRing } from '../http/auth'
import type { AuditService } from '../http/audit-routes'
import { buildServer } from '../http/server'
import { createMetrics } from '../metrics'
import { startProjections, type ProjectionRunner } from '../projections/runner'
import { openEventStore } from '../store/open'
import type { EventStore } from '../store/port'
import { CommandExecutor } from './executor'
import { createLedger, foldFor } from './ledger'
import { PayablesFold } from './payables'
import { loadTerritory } from './territory'

/**
 * Builds the whole service from its configuration: the store, the command side, the
 * projections, the sealer and the HTTP server. `main.ts` starts it; tests start it on a
 * temporary store the same way.
 */
export interface LedgerService {
  readonly app: FastifyInstance
  readonly store: EventStore
  readonly projections: ProjectionRunner
  /** Stops taking requests, seals what is unsealed, saves the projections, closes the store. */
  close(): Promise<void>
}

export interface AssembleOptions {
  readonly clockMs?: () => number
}

export const assembleService = async (
  config: Config,
  logger: Logger,
  options: AssembleOptions = {},
): Promise<LedgerService> => {
  const keys = loadKeyRing(config.apiKeysFile)
  if (E.isLeft(keys)) throw new ConfigError([`LEDGER_API_KEYS_FILE: ${keys.left}`])
  const voucherIdSecret = voucherIdSecretOf(config)
  const clockMs = options.clockMs ?? Date.now

  const store = await openEventStore(config.storeUrl, logger)
  const embedded = config.storeUrl.startsWith('sqlite:')
  const executor = new CommandExecutor(
    store,
    foldFor,
    logger.child({ module: 'commands' }),
    embedded,
  )
  const projections = await startProjections({ store, path: config.projectionsPath, logger })
  const sealer: Sealer = startSealer({
    store,
    intervalEvents: config.sealIntervalEvents,
    intervalMs: config.sealIntervalMs,
    logger,
  })
  const metrics = createMetrics({
    conflicts: () => executor.stats,
    headPosition: () => projections.position() + projections.lagEvents(),
    projectionPosition: () => projections.position(),
  })
  const commands = createLedger({
    executor,
    territory: loadTerritory(),
    payables: new PayablesFold(store),
    voucherIdSecret,
    onOutcome: (commandType, outcome) =>
      metrics.countCommand(
        commandType,
        outcome.kind === 'rejected' ? outcome.rejection.code : outcome.kind,
      ),
  })

  const app = await buildServer({
    config,
    logger,
    keys: keys.right,
    signatures: new SignatureVerifier(config.processorSecret),
    commands,
    reads: projections,
    audit: auditServiceOf(store, config),
    metrics,
    clockMs,
    ready: () => {
      const failure = projections.failure()
      return {
        ready: failure === undefined && projections.lagEvents() < readinessLagEventsMax,
        detail: {
          position: projections.position(),
          lagEvents: projections.lagEvents(),
          ...(failure === undefined ? {} : { projectionFailure: failure.message }),
        },
      }
    },
  })

  return {
    app,
    store,
    projections,
    close: async () => {
      await app.close()
      await sealer.stop()
      await projections.stop()
      await store.close()
    },
  }
}

/**
 * The service answers ready while its read models are within this many events of the log: a
 * rebuild of a large log takes a while, and a balancer should not send reads meanwhile.
 */
const readinessLagEventsMax = 10_000

const auditServiceOf = (store: EventStore, config: Config): AuditService => ({
  events: async (afterPosition, limit) => {
    const events = await store.readAll(afterPosition, limit)
    const last = events[events.length - 1]
    return {
      events: events.map((event) => ({
        position: event.position,
        streamId: event.streamId,
        revision: event.revision,
        eventId: event.eventId,
        type: event.type,
        occurredAt: event.metadata.occurredAt,
        recordedAt: event.metadata.recordedAt,
        data: event.data,
        metadata: event.metadata,
        hash: event.metadata.hash,
        previousHash: event.metadata.previousHash,
      })),
      next: events.length < limit || last === undefined ? null : last.position,
    }
  },
  exportStream: (format) => exportLedger(store, format),
  verify: () => verifyLedger({ store, facts: readLogFacts(config.storeUrl) }),
})

/**
 * The secret that keys voucher ids. From LEDGER_VOUCHER_ID_SECRET when set; for the embedded
 * store, made once and kept beside the ledger file, so ids survive a restart; a cluster must
 * set it, identically on every instance.
 */
const voucherIdSecretOf = (config: Config): string => {
  if (config.voucherIdSecret !== undefined) return config.voucherIdSecret
  if (!config.storeUrl.startsWith('sqlite:')) {
    throw new ConfigError([
      'LEDGER_VOUCHER_ID_SECRET: required with a cluster store; the same value on every instance',
    ])
  }
  const ledgerPath = config.storeUrl.slice('sqlite:'.length)
  if (ledgerPath === ':memory:') return randomBytes(32).toString('hex')
  const secretPath = join(dirname(ledgerPath), 'voucher-id.secret')
  if (existsSync(secretPath)) return readFileSync(secretPath, 'utf8').trim()
  mkdirSync(dirname(secretPath), { recursive: true })
  const secret = randomBytes(32).toString('hex')
  writeFileSync(secretPath, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  return secret
}
