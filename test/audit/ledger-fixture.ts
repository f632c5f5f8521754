import { randomUUID } from 'node:crypto'
import { isLeft } from 'fp-ts/Either'
import { PathReporter } from 'io-ts/PathReporter'
import { eventCodecs, type EventType, type LedgerEvent } from '../../domain/events'
import { postingsOf } from '../../domain/postings'
import { streams } from '../../domain/streams'
import { buildEventToAppend } from '../../src/audit/chain'
import { zeroHash } from '../../src/audit/hash'
import type { EventStore, StreamAppend } from '../../src/store/port'

/**
 * A realistic ledger written through a real store with the chain helper: a programme with two
 * funders and a budget increase, merchants (one with a name that needs Latin-9), purchases with
 * their bonus, redemptions of both kinds, a refund by rule 6 of DOMAIN.md, a payout paid, an
 * expiry, stock movements and idempotency records. Every event is decoded with its codec before
 * it is appended, so the fixture cannot drift from the contract.
 */

export interface FixtureEvent {
  readonly streamId: string
  readonly type: EventType
  readonly data: unknown
}

/** Appends commands of several events, chaining hashes per stream as the command handler does. */
export class LedgerWriter {
  private readonly tips = new Map<string, { revision: number; hash: string }>()
  private clockMs: number
  /** Every event appended, in order, for the tests' expected figures. */
  readonly written: LedgerEvent[] = []

  constructor(
    private readonly store: EventStore,
    startIso = '2026-03-28T21:00:00.000Z',
  ) {
    this.clockMs = Date.parse(startIso)
  }

  /** One command: its events appended atomically, one stream append per stream touched. */
  async command(commandId: string, events: readonly FixtureEvent[]): Promise<number> {
    this.clockMs += 7 * 60 * 1000
    const at = new Date(this.clockMs).toISOString()
    const byStream = new Map<string, StreamAppend>()
    for (const event of events) {
      const decoded = eventCodecs[event.type].decode(event.data)
      if (isLeft(decoded)) throw new Error(`${event.type}: ${PathReporter.report(decoded)}`)
      this.written.push({ type: event.type, data: decoded.right } as LedgerEvent)

      const tip = this.tips.get(event.streamId) ?? { revision: -1, hash: zeroHash }
      const built = buildEventToAppend({
        streamId: event.streamId,
        revision: tip.revision + 1,
        previousHash: tip.hash,
        eventId: randomUUID(),
        type: event.type,
        data: event.data,
        occurredAt: at,
        recordedAt: at,
        commandId,
        causationId: commandId,
        correlationId: commandId,
        actor: 'operator:test',
      })
      const append = byStream.get(event.streamId)
      const expectedRevision = tip.revision < 0 ? 'no_stream' : tip.revision
      byStream.set(event.streamId, {
        streamId: event.streamId,
        expectedRevision: append?.expectedRevision ?? expectedRevision,
        events: [...(append?.events ?? []), built],
      })
      this.tips.set(event.streamId, { revision: tip.revision + 1, hash: built.metadata.hash })
    }
    const result = await this.store.appendToStreams([...byStream.values()])
    return result.position
  }

  /** Balances of every account over the events written, debit positive. */
  expectedBalances(): Map<string, number> {
    const balances = new Map<string, number>()
    for (const event of this.written) {
      for (const posting of postingsOf(event)) {
        balances.set(posting.account, (balances.get(posting.account) ?? 0) + posting.amountCents)
      }
    }
    return balances
  }
}

export const programmeId = 'P2026'
export const merchantIds = ['M1', 'M2', 'M3'] as const
export const merchantNames: Record<string, string> = {
  M1: "Café de l'Église",
  M2: 'Bœuf & Œufs, Épicerie €',
  M3: 'Librairie Sarrebourg',
}

const purchaseIdsOf = (index: number) => ({
  purchaseId: `pu-${index}`,
  voucherId: `V${String(index).padStart(6, '0')}`,
  bonusVoucherId: `B${String(index).padStart(6, '0')}`,
})

const setupEvents = (): FixtureEvent[][] => [
  [
    {
      streamId: streams.programme(programmeId),
      type: 'ProgrammeCreated',
      data: {
        programmeId,
        name: 'Saison 2026 - bons bonifiés',
        bonusRateBasisPoints: 2500,
        validFrom: '2026-01-01',
        validUntil: '2026-12-31',
        funders: [
          { funderId: 'CCSMS', name: 'CC Sarrebourg Moselle Sud', contributionCents: 100_000_00 },
          { funderId: 'CCS', name: 'CC du Saulnois', contributionCents: 50_000_00 },
        ],
        minVoucherCents: null,
        maxVoucherCents: null,
        maxBonusPerCustomerCents: null,
      },
    },
  ],
  [
    {
      streamId: streams.programme(programmeId),
      type: 'ProgrammeBudgetIncreased',
      data: { programmeId, increaseId: 'inc-1', funderId: 'CCPP', amountCents: 20_000_00 },
    },
  ],
  ...merchantIds.map((merchantId) => [
    {
      streamId: streams.merchant(merchantId),
      type: 'MerchantRegistered' as const,
      data: {
        merchantId,
        legalName: merchantNames[merchantId],
        siret: '12345678900011',
        communeCode: '57630',
        communeName: 'Sarrebourg',
        groupingSiren: '200068146',
        groupingName: 'CC Sarrebourg Moselle Sud',
        category: 'retail',
        employees: 3,
        salesAreaM2: 80,
        annualTurnoverCents: 30_000_000,
      },
    },
  ]),
]

/** The programme, its budget increase and the merchants, one command each. */
export const writeSetup = async (writer: LedgerWriter): Promise<void> => {
  for (const [index, events] of setupEvents().entries()) {
    await writer.command(`setup-${index}`, events)
  }
}

/** A purchase of `amountCents` at a merchant with its 25 % bonus, as the purchase command. */
export const purchaseEvents = (
  index: number,
  merchantId: string,
  amountCents: number,
): FixtureEvent[] => {
  const ids = purchaseIdsOf(index)
  const bonusCents = Math.floor((amountCents * 2500) / 10_000)
  const common = { purchaseId: ids.purchaseId, programmeId, merchantId, customerId: `c-${index}` }
  return [
    {
      streamId: streams.programme(programmeId),
      type: 'BonusGranted',
      data: { ...common, voucherId: ids.voucherId, bonusVoucherId: ids.bonusVoucherId,
        requestedBonusCents: bonusCents, bonusCents },
    },
    {
      streamId: streams.voucher(ids.voucherId),
      type: 'VoucherPurchased',
      data: { ...common, voucherId: ids.voucherId, bonusVoucherId: ids.bonusVoucherId,
        amountCents, bonusCents, requestedBonusCents: bonusCents,
        paymentReference: `pay-${index}`, validUntil: '2026-12-31' },
    },
    {
      streamId: streams.voucher(ids.bonusVoucherId),
      type: 'BonusVoucherIssued',
      data: { ...common, voucherId: ids.bonusVoucherId, purchasedVoucherId: ids.voucherId,
        valueCents: bonusCents, validUntil: '2026-12-31' },
    },
    {
      streamId: streams.idempotency(`purchase:${ids.purchaseId}`),
      type: 'CommandAccepted',
      data: { idempotencyKey: `purchase:${ids.purchaseId}`, requestHash: 'h',
        commandType: 'PurchaseVoucher', response: { purchaseId: ids.purchaseId } },
    },
  ]
}

export const redemptionEvent = (r: {
  redemptionId: string
  voucherId: string
  kind: 'purchased' | 'bonus'
  merchantId: string
  amountCents: number
  remainingCents: number
}): FixtureEvent => ({
  streamId: streams.voucher(r.voucherId),
  type: 'VoucherRedeemed',
  data: { ...r, programmeId },
})

/**
 * Builds the ledger: setup, `purchaseCount` purchases spread over the merchants with a
 * redemption of each kind, then the rule 6 refund of DOMAIN.md's example, an expiry, a payout
 * paid and stock movements. Returns the writer, whose `written` holds every event.
 */
export const buildLedger = async (
  store: EventStore,
  purchaseCount: number,
): Promise<LedgerWriter> => {
  const writer = new LedgerWriter(store)
  await writeSetup(writer)

  for (let index = 1; index <= purchaseCount; index += 1) {
    const merchantId = merchantIds[index % merchantIds.length] as string
    const otherId = merchantIds[(index + 1) % merchantIds.length] as string
    const amountCents = 40_00 + index * 137
    const bonusCents = Math.floor((amountCents * 2500) / 10_000)
    const ids = purchaseIdsOf(index)
    await writer.command(`purchase-${index}`, purchaseEvents(index, merchantId, amountCents))
    await writer.command(`redeem-p-${index}`, [
      redemptionEvent({ redemptionId: `rp-${index}`, voucherId: ids.voucherId, kind: 'purchased',
        merchantId, amountCents: 10_00, remainingCents: amountCents - 10_00 }),
    ])
    await writer.command(`redeem-b-${index}`, [
      redemptionEvent({ redemptionId: `rb-${index}`, voucherId: ids.bonusVoucherId, kind: 'bonus',
        merchantId: otherId, amountCents: 5_00, remainingCents: bonusCents - 5_00 }),
    ])
  }
  await writeRefundExample(writer)
  await writeExpiryPayoutAndStock(writer)
  return writer
}

/** DOMAIN.md rule 6: 100.00 at M1, 20.00 of bonus spent at M2, 40.00 at M1, then refunded. */
const writeRefundExample = async (writer: LedgerWriter): Promise<void> => {
  const index = 900_001
  const ids = purchaseIdsOf(index)
  await writer.command('purchase-refund', purchaseEvents(index, 'M1', 100_00))
  await writer.command('refund-redeem-b', [
    redemptionEvent({ redemptionId: 'rr-b', voucherId: ids.bonusVoucherId, kind: 'bonus',
      merchantId: 'M2', amountCents: 20_00, remainingCents: 5_00 }),
  ])
  await writer.command('refund-redeem-p', [
    redemptionEvent({ redemptionId: 'rr-p', voucherId: ids.voucherId, kind: 'purchased',
      merchantId: 'M1', amountCents: 40_00, remainingCents: 60_00 }),
  ])
  const common = { refundId: 'refund-1', purchaseId: ids.purchaseId }
  await writer.command('refund', [
    { streamId: streams.voucher(ids.voucherId), type: 'PurchaseRefunded',
      data: { ...common, programmeId, merchantId: 'M1', customerId: `c-${index}`,
        voucherId: ids.voucherId, bonusVoucherId: ids.bonusVoucherId, unredeemedCents: 60_00,
        refundedCents: 50_00, recoveredCents: 10_00, bonusCancelledCents: 5_00,
        newBonusEntitlementCents: 10_00 } },
    { streamId: streams.voucher(ids.bonusVoucherId), type: 'BonusVoucherReduced',
      data: { ...common, voucherId: ids.bonusVoucherId, reducedCents: 5_00, remainingCents: 0 } },
    { streamId: streams.programme(programmeId), type: 'BonusReleased',
      data: { ...common, programmeId, customerId: `c-${index}`, cancelledCents: 5_00,
        recoveredCents: 10_00 } },
  ])
}

const writeExpiryPayoutAndStock = async (writer: LedgerWriter): Promise<void> => {
  const expiring = purchaseIdsOf(900_002)
  await writer.command('purchase-expiring', purchaseEvents(900_002, 'M3', 20_00))
  await writer.command('expiry', [
    { streamId: streams.voucher(expiring.bonusVoucherId), type: 'VoucherExpired',
      data: { runId: 'exp-1', voucherId: expiring.bonusVoucherId, kind: 'bonus', programmeId,
        merchantId: 'M3', expiredCents: 5_00 } },
    { streamId: streams.voucher(expiring.voucherId), type: 'VoucherExpired',
      data: { runId: 'exp-1', voucherId: expiring.voucherId, kind: 'purchased', programmeId,
        merchantId: 'M3', expiredCents: 20_00 } },
  ])
  await writer.command('payout', [
    { streamId: streams.payout('po-1'), type: 'PayoutScheduled',
      data: { payoutId: 'po-1', runId: 'run-1', merchantId: 'M3', amountCents: 15_00 } },
    { streamId: streams.payoutsLedger(), type: 'PayoutRunCompleted',
      data: { runId: 'run-1', payoutIds: ['po-1'], totalCents: 15_00 } },
  ])
  await writer.command('payout-paid', [
    { streamId: streams.payout('po-1'), type: 'PayoutNoticeRecorded',
      data: { payoutId: 'po-1', merchantId: 'M3', amountCents: 15_00, processorEventId: 'evt-1',
        outcome: 'paid', reason: null, noticeOccurredAt: '2026-03-29T10:00:00.000Z',
        statusBefore: 'in_flight', statusAfter: 'paid' } },
  ])
  await writer.command('stock', [
    { streamId: streams.stock('M1', 'SKU-1'), type: 'StockMoved',
      data: { movementId: 'mv-1', merchantId: 'M1', sku: 'SKU-1', kind: 'received', quantity: 5,
        reason: null, onHand: 5, reserved: 0 } },
  ])
}
