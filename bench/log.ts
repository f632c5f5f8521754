import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Id } from '../domain/ids'
import { decideRegisterMerchant, type MerchantState } from '../domain/merchant'
import type { Cents } from '../domain/money'
import {
  decideRecordPayoutNotice,
  decideRunPayouts,
  type PayoutState,
  type PayoutsLedgerState,
  type RunPayoutsResponse,
} from '../domain/payout'
import {
  decideCreateProgramme,
  decideIncreaseBudget,
  type ProgrammeState,
} from '../domain/programme'
import { streams } from '../domain/streams'
import type { CalendarDate, Instant } from '../domain/time'
import { instantOf } from '../domain/time'
import {
  decideRedeemVoucher,
  decideRefundPurchase,
  decideVoucherPurchase,
  type Voucher,
  type VoucherState,
} from '../domain/voucher'
import { loadTerritory, territoryCommunes } from '../src/app/territory'
import { buildStreamEvents } from '../src/audit/chain'
import { zeroHash } from '../src/audit/hash'
import { computeSealHash, sealEventId } from '../src/audit/seal'
import { voucherIdsFor } from '../src/app/voucher-ids'
import { openSqliteEventStore } from '../src/store/sqlite'
import { luhnSiretOf } from './ids'
import { LogWriter } from './log-writer'
import {
  cacheDir,
  logCommandsPerFlush,
  logEventCountMin,
  logSealIntervalEvents,
} from './settings'
import { progress } from './stats'

/**
 * The million-event log of the replay, memory and cold-start figures: a season of the scheme
 * with two programmes, a few hundred merchants, purchases, redemptions of purchased and bonus
 * vouchers, some refunds and weekly payout runs with their processor notices, sealed as the
 * service seals. Generated once into `bench/.cache` and reused while the files that shape
 * events (their codecs, hashes, chaining and seals) are unchanged.
 */
export interface GeneratedLog {
  readonly path: string
  readonly eventCount: number
  readonly voucherIdSecret: string
}

/** Voucher ids of the generated log are keyed with this; a service started on it needs it. */
export const logVoucherIdSecret = 'bench-voucher-id-secret-0123456789abcdef'

/**
 * What makes a cached log stale: the codecs of events (their file), how events are hashed,
 * chained and sealed, and the store's tables. The last ones are fingerprinted by what the current
 * code produces (`behaviourOf`, `storeSchemaOf`), not by its source, which changes often for
 * speed alone, and regenerating takes minutes.
 */
const shapingFiles = ['domain/events.ts']

/** Bumped whenever this file or log-writer.ts changes what is generated. */
const scenarioVersion = 1

/** The cached log of the current fingerprint, generated first when there is none. */
export const ensureLog = async (): Promise<GeneratedLog> => {
  const path = join(cacheDir, `ledger-${await logFingerprint()}.db`)
  const summaryPath = `${path}.json`
  if (existsSync(path) && existsSync(summaryPath)) {
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as { eventCount: number }
    return { path, eventCount: summary.eventCount, voucherIdSecret: logVoucherIdSecret }
  }
  mkdirSync(cacheDir, { recursive: true })
  removeStaleLogs()
  const partialPath = `${path}.partial`
  const startMs = Date.now()
  const eventCount = await generateLog(partialPath, logEventCountMin)
  renameSync(partialPath, path)
  writeFileSync(summaryPath, `${JSON.stringify({ eventCount, generatedAt: new Date() })}\n`)
  progress(`log of ${eventCount} events generated in ${Date.now() - startMs} ms: ${path}`)
  return { path, eventCount, voucherIdSecret: logVoucherIdSecret }
}

const logFingerprint = async (): Promise<string> => {
  const hash = createHash('sha256').update(`${scenarioVersion}/${logEventCountMin}`)
  for (const file of shapingFiles) hash.update(readFileSync(join(__dirname, '..', file)))
  hash.update(behaviourOf())
  hash.update(await storeSchemaOf())
  return hash.digest('hex').slice(0, 12)
}

/** Two chained events and a seal over them, as the current audit code builds them. */
const behaviourOf = (): string => {
  const at = '2026-11-02T08:00:00.000Z'
  const input = (index: number) => ({
    eventId: `00000000-0000-5000-8000-00000000000${index}`,
    type: 'MerchantSuspended',
    data: { merchantId: 'M1', reason: `probe ${index}` },
    occurredAt: at,
    recordedAt: at,
    commandId: `probe-${index}`,
    causationId: `probe-${index}`,
    correlationId: `probe-${index}`,
    actor: 'operator:probe',
  })
  const stream = { streamId: 'merchant-M1', nextRevision: 0, previousHash: zeroHash }
  const events = buildStreamEvents(stream, [input(1), input(2)])
  const range = { fromPosition: 0, throughPosition: 2, previousSealHash: zeroHash }
  const hashes = events.map((event, index) => ({ position: index + 1, hash: event.metadata.hash }))
  const seal = computeSealHash(range, hashes)
  return JSON.stringify({ events, seal, sealId: sealEventId(0, 2) })
}

/** The tables, indexes and version an empty store file gets from the current adapter. */
const storeSchemaOf = async (): Promise<string> => {
  mkdirSync(cacheDir, { recursive: true })
  const path = join(cacheDir, `schema-probe-${process.pid}.db`)
  removeDatabase(path)
  await openSqliteEventStore({ path }).close()
  const db = new Database(path, { readonly: true })
  try {
    const objects = db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()
    return JSON.stringify({ objects, version: db.pragma('user_version', { simple: true }) })
  } finally {
    db.close()
    removeDatabase(path)
  }
}

/** Logs of other fingerprints: a gigabyte each, never read again. */
const removeStaleLogs = (): void => {
  for (const name of readdirSync(cacheDir)) {
    if (/^ledger-[0-9a-f]+\.db/.test(name)) rmSync(join(cacheDir, name), { force: true })
  }
}

const removeDatabase = (path: string): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
}

// ---- the scenario ----

/** The season starts the day after the programmes open; commands are this far apart. */
const seasonStartMs = Date.parse('2026-11-02T07:00:00.000Z')
const commandSpacingMs = 8_000

/** Merchants of the scheme: a few hundred small businesses across the territory. */
const merchantCount = 300
const customerCount = 50_000

/** Purchases whose vouchers may still be redeemed or refunded; older ones are forgotten. */
const openPurchasesMax = 3_000

/** Chances, per purchase, of the commands that follow it (a realistic season's mix). */
const purchasedRedemptionChance = 0.75
const bonusRedemptionChance = 0.6
const refundChance = 0.02
const payoutFailureChance = 0.05

/** A payout run every this many purchases: about weekly over the season. */
const purchasesPerPayoutRun = 20_000

const operatorActor = 'operator:0b1c2d3e4f50'
const processorActor = 'processor:9a8b7c6d5e4f'

const programmes = [
  {
    programmeId: 'P-MS-2026',
    name: 'Moselle Sud 2026',
    bonusRateBasisPoints: 2_500,
    validFrom: '2026-11-01',
    validUntil: '2026-12-31',
    funders: [
      { funderId: 'ccsms', name: 'CC Sarrebourg Moselle Sud', contributionCents: 200_000_000 },
      { funderId: 'ccs', name: 'CC du Saulnois', contributionCents: 100_000_000 },
      { funderId: 'ccpp', name: 'CC du Pays de Phalsbourg', contributionCents: 50_000_000 },
    ],
    minVoucherCents: null,
    maxVoucherCents: null,
    maxBonusPerCustomerCents: null,
  },
  {
    programmeId: 'P-NOEL-2026',
    name: 'Noel en Moselle Sud',
    bonusRateBasisPoints: 1_000,
    validFrom: '2026-11-01',
    validUntil: '2026-12-31',
    funders: [{ funderId: 'region', name: 'Region Grand Est', contributionCents: 40_000_000 }],
    minVoucherCents: 1_000,
    maxVoucherCents: 20_000,
    maxBonusPerCustomerCents: 3_000,
  },
] as const

const purchaseAmountsCents = [1_000, 2_000, 2_500, 3_000, 5_000, 7_500, 10_000, 15_000]
const categories = ['retail', 'food', 'restaurant', 'bar', 'cafe', 'tourism', 'services'] as const

/** mulberry32: a small seeded generator, so every generated log is the same log. */
const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

interface OpenPurchase {
  readonly purchaseId: string
  readonly voucherId: string
  readonly bonusVoucherId: string | null
  readonly merchantId: string
}

/** A generated season: the writer, its clock, and the ids it has handed out. */
class Season {
  readonly random = seededRandom(2026)
  private clockMs = seasonStartMs
  readonly writer: LogWriter
  readonly merchantIds: string[] = []
  readonly open: OpenPurchase[] = []
  purchaseCount = 0
  redemptionCount = 0
  refundCount = 0
  payoutRunCount = 0

  constructor(path: string) {
    const store = openSqliteEventStore({ path })
    this.writer = new LogWriter(store, logSealIntervalEvents, logCommandsPerFlush, () => {
      this.clockMs += commandSpacingMs
      return this.clockMs
    })
    this.close = () => store.close()
  }

  readonly close: () => Promise<void>

  /** The time of the last command, without moving the clock. */
  lastMs(): number {
    return this.clockMs
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T
  }
}

/** Writes a season of at least `eventCountMin` events into a new store file at `path`. */
export const generateLog = async (path: string, eventCountMin: number): Promise<number> => {
  const season = new Season(path)
  try {
    await createProgrammes(season)
    await registerMerchants(season)
    while (season.writer.position < eventCountMin) {
      await purchaseStep(season)
      if (season.purchaseCount % purchasesPerPayoutRun === 0) await payoutRun(season)
      if (season.purchaseCount === 60_000) await increaseBudget(season)
      if (season.purchaseCount % 20_000 === 0) {
        progress(`log: ${season.writer.position} events, ${season.purchaseCount} purchases`)
      }
    }
    await payoutRun(season)
    await season.writer.finish()
    return season.writer.position
  } finally {
    await season.close()
  }
}

const createProgrammes = async (season: Season): Promise<void> => {
  for (const body of programmes) {
    const stream = streams.programme(body.programmeId)
    await season.writer.execute({
      commandType: 'CreateProgramme',
      commandId: `programme:${body.programmeId}`,
      keys: [{ key: `programme:${body.programmeId}`, request: body }],
      actor: operatorActor,
      decide: (state, context) =>
        decideCreateProgramme(
          {
            ...body,
            programmeId: body.programmeId as Id,
            validFrom: body.validFrom as CalendarDate,
            validUntil: body.validUntil as CalendarDate,
            funders: body.funders.map((f) => ({ ...f, funderId: f.funderId as Id })) as never,
            minVoucherCents: body.minVoucherCents as Cents | null,
            maxVoucherCents: body.maxVoucherCents as Cents | null,
            maxBonusPerCustomerCents: body.maxBonusPerCustomerCents as Cents | null,
          },
          state(stream) as ProgrammeState,
          context,
        ),
    })
  }
}

const increaseBudget = async (season: Season): Promise<void> => {
  const programmeId = programmes[0].programmeId
  const body = { increaseId: 'mid-season', funderId: 'ccsms', amountCents: 50_000_000 }
  const key = `budget-increase:${programmeId}:${body.increaseId}`
  const stream = streams.programme(programmeId)
  await season.writer.execute({
    commandType: 'IncreaseBudget',
    commandId: key,
    keys: [{ key, request: { programmeId, ...body } }],
    actor: operatorActor,
    decide: (state, context) =>
      decideIncreaseBudget(
        {
          programmeId: programmeId as Id,
          increaseId: body.increaseId as Id,
          funderId: body.funderId as Id,
          amountCents: body.amountCents as Cents,
        },
        state(stream) as ProgrammeState,
        context,
      ),
  })
}

const registerMerchants = async (season: Season): Promise<void> => {
  const territory = loadTerritory()
  const communes = territoryCommunes()
  for (let index = 0; index < merchantCount; index += 1) {
    const merchantId = `M${String(index + 1).padStart(4, '0')}`
    const body = {
      merchantId,
      legalName: `Commerce ${merchantId}`,
      siret: luhnSiretOf(index),
      communeCode: (communes[index % communes.length] as { communeCode: string }).communeCode,
      category: categories[index % categories.length] as (typeof categories)[number],
      employees: 1 + (index % 30),
      salesAreaM2: 40 + (index % 400),
      annualTurnoverCents: 10_000_000 + index * 100_000,
    }
    const stream = streams.merchant(merchantId)
    await season.writer.execute({
      commandType: 'RegisterMerchant',
      commandId: `merchant:${merchantId}`,
      keys: [{ key: `merchant:${merchantId}`, request: body }],
      actor: operatorActor,
      decide: (state, context) =>
        decideRegisterMerchant(
          {
            ...body,
            merchantId: merchantId as Id,
            annualTurnoverCents: body.annualTurnoverCents as Cents,
          },
          state(stream) as MerchantState,
          territory,
          context,
        ),
    })
    season.merchantIds.push(merchantId)
  }
}

/** One purchase, then the redemptions and refund it may lead to among the open purchases. */
const purchaseStep = async (season: Season): Promise<void> => {
  await purchase(season)
  if (season.random() < purchasedRedemptionChance) {
    const target = season.pick(season.open)
    await redeem(season, target.voucherId, target.merchantId)
  }
  if (season.random() < bonusRedemptionChance) {
    const target = season.pick(season.open)
    if (target.bonusVoucherId !== null) {
      const elsewhere = season.pick(season.merchantIds.filter((id) => id !== target.merchantId))
      await redeem(season, target.bonusVoucherId, elsewhere)
    }
  }
  if (season.random() < refundChance) await refund(season, season.pick(season.open))
  while (season.open.length > openPurchasesMax) {
    const forgotten = season.open.shift() as OpenPurchase
    season.writer.forget(streams.voucher(forgotten.voucherId))
    if (forgotten.bonusVoucherId !== null) {
      season.writer.forget(streams.voucher(forgotten.bonusVoucherId))
    }
  }
}

const purchase = async (season: Season): Promise<void> => {
  season.purchaseCount += 1
  const programme = season.random() < 0.85 ? programmes[0] : programmes[1]
  const purchaseId = `pu-${String(season.purchaseCount).padStart(7, '0')}`
  const body = {
    purchaseId,
    programmeId: programme.programmeId,
    merchantId: season.pick(season.merchantIds),
    customerId: `cu-${String(Math.floor(season.random() * customerCount)).padStart(6, '0')}`,
    amountCents: season.pick(purchaseAmountsCents),
    paymentReference: `psp-${purchaseId}`,
  }
  const ids = voucherIdsFor(logVoucherIdSecret, purchaseId)
  const response = (await season.writer.execute({
    commandType: 'PurchaseVoucher',
    commandId: `purchase:${purchaseId}`,
    keys: [{ key: `purchase:${purchaseId}`, request: body }],
    actor: operatorActor,
    decide: (state, context) =>
      decideVoucherPurchase(
        {
          ...body,
          purchaseId: purchaseId as Id,
          programmeId: body.programmeId as Id,
          merchantId: body.merchantId as Id,
          customerId: body.customerId as Id,
          amountCents: body.amountCents as Cents,
          voucherId: ids.voucherId as Id,
          bonusVoucherId: ids.bonusVoucherId as Id,
        },
        state(streams.programme(body.programmeId)) as ProgrammeState,
        state(streams.merchant(body.merchantId)) as MerchantState,
        context,
      ),
  })) as { bonusVoucherId: string | null }
  season.open.push({
    purchaseId,
    voucherId: ids.voucherId,
    bonusVoucherId: response.bonusVoucherId,
    merchantId: body.merchantId,
  })
}

/** Spends part or all of what remains, as customers do; nothing when nothing remains. */
const redeem = async (season: Season, voucherId: string, merchantId: string): Promise<void> => {
  const voucher = season.writer.state<VoucherState>(streams.voucher(voucherId))
  if (!voucher.issued || voucher.status !== 'active' || voucher.remainingCents === 0) return
  const whole = season.random() < 0.5 || voucher.remainingCents < 200
  const amountCents = whole ? voucher.remainingCents : Math.ceil(voucher.remainingCents / 2)
  season.redemptionCount += 1
  const redemptionId = `re-${String(season.redemptionCount).padStart(7, '0')}`
  const body = { redemptionId, merchantId, amountCents }
  await season.writer.execute({
    commandType: 'RedeemVoucher',
    commandId: `redemption:${redemptionId}`,
    keys: [{ key: `redemption:${redemptionId}`, request: { voucherId, ...body } }],
    actor: operatorActor,
    decide: (state, context) =>
      decideRedeemVoucher(
        {
          redemptionId: redemptionId as Id,
          voucherId: voucherId as Id,
          merchantId: merchantId as Id,
          amountCents: amountCents as Cents,
        },
        state(streams.voucher(voucherId)) as VoucherState,
        state(streams.merchant(merchantId)) as MerchantState,
        context,
      ),
  })
}

const refund = async (season: Season, target: OpenPurchase): Promise<void> => {
  const purchased = season.writer.state<VoucherState>(streams.voucher(target.voucherId))
  if (!purchased.issued || purchased.status !== 'active' || purchased.remainingCents === 0) return
  season.refundCount += 1
  const refundId = `rf-${String(season.refundCount).padStart(6, '0')}`
  const request = { purchaseId: target.purchaseId, refundId }
  const bonusStream =
    target.bonusVoucherId === null ? undefined : streams.voucher(target.bonusVoucherId)
  await season.writer.execute({
    commandType: 'RefundPurchase',
    commandId: `refund:${refundId}`,
    keys: [{ key: `refund:${refundId}`, request }],
    actor: operatorActor,
    decide: (state, context) =>
      decideRefundPurchase(
        { refundId: refundId as Id, purchaseId: target.purchaseId as Id },
        state(streams.voucher(target.voucherId)) as VoucherState,
        bonusStream === undefined ? undefined : (state(bonusStream) as Voucher),
        state(streams.programme((purchased as Voucher).programmeId)) as ProgrammeState,
        context,
      ),
  })
}

/** A payout run over every merchant owed, then the processor's notice of each payout. */
const payoutRun = async (season: Season): Promise<void> => {
  season.payoutRunCount += 1
  const runId = `run-${String(season.payoutRunCount).padStart(3, '0')}`
  const ledgerStream = streams.payoutsLedger()
  const response = (await season.writer.execute({
    commandType: 'RunPayouts',
    commandId: `payout-run:${runId}`,
    keys: [{ key: `payout-run:${runId}`, request: { runId } }],
    actor: operatorActor,
    decide: (state, context) =>
      decideRunPayouts(
        { runId: runId as Id },
        state(ledgerStream) as PayoutsLedgerState,
        season.writer.owedByMerchant() as ReadonlyMap<string, Cents>,
        context,
      ),
  })) as RunPayoutsResponse
  for (const payout of response.payouts) await payoutNotice(season, payout.payoutId)
}

const payoutNotice = async (season: Season, payoutId: string): Promise<void> => {
  const payoutStream = streams.payout(payoutId)
  const failed = season.random() < payoutFailureChance
  const processorEventId = `evt-${payoutId}`
  // By the processor's clock the payout settled as the previous command was recorded.
  const noticeOccurredAt: Instant = instantOf(season.lastMs())
  const event = {
    eventId: processorEventId,
    type: failed ? 'payout.failed' : 'payout.paid',
    occurredAt: noticeOccurredAt,
    data: failed ? { payoutId, reason: 'account closed' } : { payoutId },
  }
  await season.writer.execute({
    commandType: 'RecordPayoutNotice',
    commandId: `processor:${processorEventId}`,
    keys: [{ key: `processor:${processorEventId}`, request: event }],
    actor: processorActor,
    occurredAt: noticeOccurredAt,
    decide: (state, context) =>
      decideRecordPayoutNotice(
        {
          processorEventId: processorEventId as Id,
          payoutId: payoutId as Id,
          outcome: failed ? 'failed' : 'paid',
          reason: failed ? 'account closed' : null,
          noticeOccurredAt,
        },
        state(payoutStream) as PayoutState,
        context,
      ),
  })
  season.writer.forget(payoutStream)
}
