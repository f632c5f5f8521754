import { createHash } from 'node:crypto'
import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import type { CommandContext, Decision, Rejection } from '../../domain/decider'
import type { LedgerEvent } from '../../domain/events'
import { foldOfStream } from '../../domain/folds'
import type { Id } from '../../domain/ids'
import {
  decideRegisterMerchant,
  decideReinstateMerchant,
  decideSuspendMerchant,
  type MerchantState,
} from '../../domain/merchant'
import { cents, type Cents } from '../../domain/money'
import {
  decideRecordPayoutNotice,
  decideRunPayouts,
  type PayoutState,
  type PayoutsLedgerState,
} from '../../domain/payout'
import { accounts, postingsOf } from '../../domain/postings'
import {
  decideCreateProgramme,
  decideIncreaseBudget,
  programmeVoucherIds,
  type ProgrammeState,
} from '../../domain/programme'
import { decideMoveStock, type StockState } from '../../domain/stock'
import { streams } from '../../domain/streams'
import type { CalendarDate, Instant } from '../../domain/time'
import {
  decideRedeemVoucher,
  decideRefundPurchase,
  decideRunExpiry,
  decideVoucherPurchase,
  type VoucherState,
} from '../../domain/voucher'
import { territoryCommunes, loadTerritory } from '../../src/app/territory'
import type { RecordedEvent } from '../../src/store/port'

/**
 * A command side in memory for property tests: the domain's own deciders, their streams folded
 * with the domain's own `evolve`, and an ordered log of recorded events. Random command
 * sequences run through it give logs that the real service could have written, refused
 * commands included (they write nothing), which the projections are then checked against.
 */

export type SimCommand =
  | { kind: 'purchase'; merchant: number; customer: number; amountCents: number }
  | {
      kind: 'redeem'
      voucher: number
      wrongMerchant: boolean
      offset: number
      sharePercent: number
    }
  | { kind: 'refund'; purchase: number }
  | { kind: 'payoutRun' }
  | { kind: 'notice'; payout: number; outcome: 'paid' | 'failed'; earlierMs: number }
  | { kind: 'stock'; merchant: number; sku: number; movement: StockKind; quantity: number }
  | { kind: 'suspend' | 'reinstate'; merchant: number }
  | { kind: 'increaseBudget'; amountCents: number }

type StockKind = 'received' | 'adjusted' | 'reserved' | 'released' | 'sold'

const merchantCount = 4

export const simCommand: fc.Arbitrary<SimCommand> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('purchase' as const),
      merchant: fc.nat(merchantCount - 1),
      customer: fc.nat(3),
      amountCents: fc.integer({ min: 1, max: 30_000 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('redeem' as const),
      voucher: fc.nat(),
      wrongMerchant: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      offset: fc.nat(merchantCount - 2),
      sharePercent: fc.integer({ min: 1, max: 110 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refund' as const), purchase: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('payoutRun' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('notice' as const),
      payout: fc.nat(),
      outcome: fc.constantFrom('paid' as const, 'failed' as const),
      earlierMs: fc.integer({ min: 0, max: 3 * 3_600_000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        kind: fc.constant('stock' as const),
        merchant: fc.nat(merchantCount - 1),
        sku: fc.nat(2),
        movement: fc.constantFrom<StockKind>(
          'received',
          'adjusted',
          'reserved',
          'released',
          'sold',
        ),
        quantity: fc.integer({ min: -6, max: 12 }),
      })
      .map((c) => ({
        ...c,
        quantity: c.movement === 'adjusted' ? c.quantity : Math.abs(c.quantity) + 1,
      })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('suspend' as const, 'reinstate' as const),
      merchant: fc.nat(merchantCount - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('increaseBudget' as const),
      amountCents: fc.integer({ min: 1, max: 20_000 }),
    }),
  },
)

const validUntil = '2026-12-31' as CalendarDate
const seasonStartMs = Date.parse('2026-03-01T08:00:00.000Z')
const afterSeasonMs = Date.parse('2027-01-02T08:00:00.000Z')

export class Simulation {
  readonly log: RecordedEvent[] = []
  private readonly states = new Map<string, unknown>()
  private readonly revisions = new Map<string, number>()
  private readonly owed = new Map<string, Cents>()
  private readonly purchases: { purchaseId: string; voucherId: string; bonusVoucherId: string }[] =
    []
  private readonly vouchers: string[] = []
  private readonly payouts: string[] = []
  private nowMs = seasonStartMs
  private sequence = 0
  private readonly programmeId: Id
  private readonly merchantIds: readonly Id[]

  /**
   * `idPrefix` is put before every id the simulation makes, so that several simulations can
   * write into one log (the benchmark does, to make a large log quickly).
   */
  constructor(
    budgetCents: number,
    maxBonusPerCustomerCents: number | null,
    private readonly idPrefix = '',
  ) {
    this.programmeId = `${idPrefix}P1` as Id
    this.merchantIds = Array.from({ length: merchantCount }, (_, m) => `${idPrefix}M${m}` as Id)
    const programmeId = this.programmeId
    const created = decideCreateProgramme(
      {
        programmeId,
        name: 'Saison 2026',
        bonusRateBasisPoints: 2500,
        validFrom: '2026-01-01' as CalendarDate,
        validUntil,
        funders: [
          { funderId: 'F1' as Id, name: 'CC Sarrebourg', contributionCents: cents(budgetCents) },
        ],
        minVoucherCents: null,
        maxVoucherCents: null,
        maxBonusPerCustomerCents:
          maxBonusPerCustomerCents === null ? null : cents(maxBonusPerCustomerCents),
      },
      this.state(streams.programme(programmeId)),
      this.context(),
    )
    this.accept(created)
    const communes = territoryCommunes()
    const territory = loadTerritory()
    for (let m = 0; m < merchantCount; m++) {
      const commune = communes[(m * 37) % communes.length]!
      const registered = decideRegisterMerchant(
        {
          merchantId: this.merchantIdOf(m),
          legalName: `Shop ${m}`,
          siret: '73282932000074',
          communeCode: commune.communeCode,
          category: (['retail', 'restaurant', 'cafe', 'retail'] as const)[m]!,
          employees: 3,
          salesAreaM2: 80,
          annualTurnoverCents: cents(25_000_000),
        },
        this.state(streams.merchant(this.merchantIdOf(m))),
        territory,
        this.context(),
      )
      this.accept(registered)
    }
  }

  /**
   * Runs one command; a refused command writes nothing, like the real command handler. With
   * `recordAccepted`, an accepted command also writes its `CommandAccepted`, as the service does.
   */
  run(command: SimCommand, recordAccepted = false): void {
    this.nowMs += 60_000
    const result = this.decide(command)
    if (result === undefined || E.isLeft(result)) return
    this.accept(result)
    if (!recordAccepted) return
    const idempotencyKey = this.nextId(command.kind)
    this.record(streams.idempotency(idempotencyKey), {
      type: 'CommandAccepted',
      data: {
        idempotencyKey,
        requestHash: '0'.repeat(64),
        commandType: command.kind,
        response: result.right.response as Record<string, unknown>,
      },
    })
  }

  private decide(command: SimCommand): E.Either<Rejection, Decision<unknown>> | undefined {
    const ctx = this.context()
    switch (command.kind) {
      case 'purchase':
        return this.purchase(command, ctx)
      case 'redeem':
        return this.redeem(command, ctx)
      case 'refund': {
        const purchase = this.purchases[command.purchase % Math.max(1, this.purchases.length)]
        if (purchase === undefined) return undefined
        const purchased = this.state<VoucherState>(streams.voucher(purchase.voucherId))
        const bonus = this.state<VoucherState>(streams.voucher(purchase.bonusVoucherId))
        return decideRefundPurchase(
          { refundId: this.nextId('rf'), purchaseId: purchase.purchaseId as Id },
          purchased,
          bonus.issued ? bonus : undefined,
          this.state(streams.programme(this.programmeId)),
          ctx,
        )
      }
      case 'payoutRun':
        return decideRunPayouts(
          { runId: this.nextId('run') },
          this.state<PayoutsLedgerState>(streams.payoutsLedger()),
          this.owed,
          ctx,
        )
      case 'notice':
        return this.notice(command, ctx)
      case 'stock':
        return this.moveStock(command, ctx)
      case 'suspend':
      case 'reinstate': {
        const merchantId = this.merchantIdOf(command.merchant)
        const decide = command.kind === 'suspend' ? decideSuspendMerchant : decideReinstateMerchant
        return decide({ merchantId, reason: 'test' }, this.state(streams.merchant(merchantId)), ctx)
      }
      case 'increaseBudget':
        return decideIncreaseBudget(
          {
            programmeId: this.programmeId,
            increaseId: this.nextId('inc'),
            funderId: 'F1' as Id,
            amountCents: cents(command.amountCents),
          },
          this.state(streams.programme(this.programmeId)),
          ctx,
        )
    }
  }

  private purchase(
    command: Extract<SimCommand, { kind: 'purchase' }>,
    ctx: CommandContext,
  ): E.Either<Rejection, Decision<unknown>> {
    const purchaseId = this.nextId('pu')
    const voucherId = `v-${purchaseId}`
    const bonusVoucherId = `b-${purchaseId}`
    const merchantId = this.merchantIdOf(command.merchant)
    const result = decideVoucherPurchase(
      {
        purchaseId: purchaseId as Id,
        programmeId: this.programmeId,
        merchantId,
        customerId: `${this.idPrefix}c${command.customer}` as Id,
        amountCents: cents(command.amountCents),
        paymentReference: 'pay',
        voucherId: voucherId as Id,
        bonusVoucherId: bonusVoucherId as Id,
      },
      this.state(streams.programme(this.programmeId)),
      this.state(streams.merchant(merchantId)),
      ctx,
    )
    if (E.isRight(result)) {
      this.purchases.push({ purchaseId, voucherId, bonusVoucherId })
      this.vouchers.push(voucherId, bonusVoucherId)
    }
    return result
  }

  private redeem(
    command: Extract<SimCommand, { kind: 'redeem' }>,
    ctx: CommandContext,
  ): E.Either<Rejection, Decision<unknown>> | undefined {
    const voucherId = this.vouchers[command.voucher % Math.max(1, this.vouchers.length)]
    if (voucherId === undefined) return undefined
    const voucher = this.state<VoucherState>(streams.voucher(voucherId))
    if (!voucher.issued) return undefined
    const shareCents = Math.floor((voucher.remainingCents * command.sharePercent) / 100)
    const amountCents = Math.max(1, shareCents)
    const own = this.merchantIds.indexOf(voucher.merchantId)
    const other = (own + 1 + command.offset) % merchantCount
    const atOwn = voucher.kind === 'purchased' ? !command.wrongMerchant : command.wrongMerchant
    const merchantId = this.merchantIdOf(atOwn ? own : other)
    return decideRedeemVoucher(
      {
        redemptionId: this.nextId('r'),
        voucherId: voucherId as Id,
        merchantId,
        amountCents: cents(amountCents),
      },
      voucher,
      this.state(streams.merchant(merchantId)),
      ctx,
    )
  }

  private notice(
    command: Extract<SimCommand, { kind: 'notice' }>,
    ctx: CommandContext,
  ): E.Either<Rejection, Decision<unknown>> | undefined {
    const payoutId = this.payouts[command.payout % Math.max(1, this.payouts.length)]
    if (payoutId === undefined) return undefined
    const noticeOccurredAt = new Date(this.nowMs - command.earlierMs).toISOString() as Instant
    return decideRecordPayoutNotice(
      {
        processorEventId: this.nextId('pe'),
        payoutId: payoutId as Id,
        outcome: command.outcome,
        reason: command.outcome === 'failed' ? 'account closed' : null,
        noticeOccurredAt,
      },
      this.state<PayoutState>(streams.payout(payoutId)),
      { ...ctx, occurredAt: noticeOccurredAt, occurredAtStated: true },
    )
  }

  private moveStock(
    command: Extract<SimCommand, { kind: 'stock' }>,
    ctx: CommandContext,
  ): E.Either<Rejection, Decision<unknown>> {
    const merchantId = this.merchantIdOf(command.merchant)
    const sku = `sku${command.sku}` as Id
    return decideMoveStock(
      {
        movementId: this.nextId('mv'),
        merchantId,
        sku,
        kind: command.movement,
        quantity: command.quantity,
        reason: null,
      },
      this.state<MerchantState>(streams.merchant(merchantId)),
      this.state<StockState>(streams.stock(merchantId, sku)),
      ctx,
    )
  }

  /**
   * Moves the clock past the season and expires what remains; then runs payouts and the
   * processor's notices, which go on after a season ends.
   */
  expire(afterwards: readonly SimCommand[]): void {
    this.accept(this.expiry())
    for (const command of afterwards) {
      if (command.kind === 'payoutRun' || command.kind === 'notice') this.run(command)
    }
  }

  private expiry(): E.Either<Rejection, Decision<unknown>> {
    this.nowMs = Math.max(this.nowMs, afterSeasonMs)
    const programme = this.state<ProgrammeState>(streams.programme(this.programmeId))
    const voucherIds = programme.created ? programmeVoucherIds(programme) : []
    const vouchers = new Map(
      voucherIds.map((id) => [id as string, this.state<VoucherState>(streams.voucher(id))]),
    )
    const command = { runId: this.nextId('x'), programmeId: this.programmeId }
    return decideRunExpiry(command, programme, vouchers, this.context())
  }

  private accept(result: E.Either<Rejection, Decision<unknown>>): void {
    if (E.isLeft(result)) return
    for (const append of result.right.appends) {
      for (const event of append.events) this.record(append.streamId, event)
    }
  }

  private record(streamId: string, event: LedgerEvent): void {
    const at = new Date(this.nowMs).toISOString()
    const occurredAt = event.type === 'PayoutNoticeRecorded' ? event.data.noticeOccurredAt : at
    const revision = (this.revisions.get(streamId) ?? -1) + 1
    this.revisions.set(streamId, revision)
    const fold = foldOfStream(streamId)
    if (fold !== undefined) {
      const before = this.states.get(streamId) ?? fold.initial
      const streamEvent = { ...event, metadata: { occurredAt } }
      this.states.set(streamId, fold.evolve(before, streamEvent))
    }
    if (event.type === 'PayoutScheduled') this.payouts.push(event.data.payoutId)
    this.foldOwed(event)

    this.log.push({
      position: this.log.length + 1,
      streamId,
      revision,
      eventId: createHash('sha256')
        .update(`${this.idPrefix}${streamId}/${revision}`)
        .digest('hex')
        .slice(0, 32),
      type: event.type,
      data: JSON.parse(JSON.stringify(event.data)),
      metadata: {
        occurredAt,
        recordedAt: at,
        commandId: 'sim',
        causationId: 'sim',
        correlationId: 'sim',
        actor: 'operator:sim',
        schemaVersion: 1,
        hash: '0'.repeat(64),
        previousHash: '0'.repeat(64),
      },
    })
  }

  /** What each merchant is owed, as the payout run's fold computes it: minus its payable. */
  private foldOwed(event: LedgerEvent): void {
    for (const posting of postingsOf(event)) {
      for (let m = 0; m < merchantCount; m++) {
        const merchantId = this.merchantIdOf(m)
        if (posting.account !== accounts.merchantPayable(merchantId)) continue
        this.owed.set(merchantId, cents((this.owed.get(merchantId) ?? 0) - posting.amountCents))
      }
    }
  }

  private state<S>(streamId: string): S {
    const fold = foldOfStream(streamId)
    return (this.states.get(streamId) ?? fold?.initial) as S
  }

  private context(): CommandContext {
    const now = new Date(this.nowMs).toISOString() as Instant
    return { occurredAt: now, recordedAt: now, occurredAtStated: false }
  }

  private nextId(prefix: string): Id {
    this.sequence += 1
    return `${this.idPrefix}${prefix}${this.sequence}` as Id
  }

  private merchantIdOf(index: number): Id {
    return this.merchantIds[index % merchantCount] as Id
  }
}

export const merchantIdOf = (index: number): Id => `M${index}` as Id

/** A log from a random season: a budget that may run out, an optional cap, random commands. */
export const simulatedLog = fc
  .record({
    budgetCents: fc.integer({ min: 1_000, max: 60_000 }),
    capCents: fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: null }),
    commands: fc.array(simCommand, { minLength: 1, maxLength: 80, size: 'max' }),
    expiry: fc.option(fc.array(simCommand, { maxLength: 20, size: 'max' }), { nil: null }),
  })
  .map(({ budgetCents, capCents, commands, expiry }) => {
    const simulation = new Simulation(budgetCents, capCents)
    for (const command of commands) simulation.run(command)
    if (expiry !== null) simulation.expire(expiry)
    return simulation.log
  })
