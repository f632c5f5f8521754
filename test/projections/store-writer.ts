import { randomUUID } from 'node:crypto'
import type { LedgerEvent } from '../../domain/events'
import { streams } from '../../domain/streams'
import { buildEventToAppend } from '../../src/audit/chain'
import { zeroHash } from '../../src/audit/hash'
import type { EventStore } from '../../src/store/port'

/** The stream each event lives on, by the comments of domain/events.ts. */
export const streamOf = (event: LedgerEvent): string => {
  switch (event.type) {
    case 'ProgrammeCreated':
    case 'ProgrammeBudgetIncreased':
    case 'BonusGranted':
    case 'BonusReleased':
    case 'ExpiryRunCompleted':
      return streams.programme(event.data.programmeId)
    case 'MerchantRegistered':
    case 'MerchantSuspended':
    case 'MerchantReinstated':
      return streams.merchant(event.data.merchantId)
    case 'VoucherPurchased':
    case 'BonusVoucherIssued':
    case 'VoucherRedeemed':
    case 'PurchaseRefunded':
    case 'BonusVoucherReduced':
    case 'VoucherExpired':
      return streams.voucher(event.data.voucherId)
    case 'PayoutScheduled':
    case 'PayoutNoticeRecorded':
      return streams.payout(event.data.payoutId)
    case 'PayoutRunCompleted':
      return streams.payoutsLedger()
    case 'StockMoved':
      return streams.stock(event.data.merchantId, event.data.sku)
    case 'CommandAccepted':
      return streams.idempotency(event.data.idempotencyKey)
    case 'LedgerSealed':
      return streams.seals()
  }
}

/** Appends events one command each, chaining hashes per stream as the command handler does. */
export class StoreWriter {
  private readonly tips = new Map<string, { revision: number; hash: string }>()
  private clockMs = Date.parse('2026-03-01T08:00:00.000Z')

  constructor(private readonly store: EventStore) {}

  async append(events: readonly LedgerEvent[]): Promise<number> {
    let position = 0
    for (const event of events) {
      this.clockMs += 60_000
      const at = new Date(this.clockMs).toISOString()
      const streamId = streamOf(event)
      const tip = this.tips.get(streamId) ?? { revision: -1, hash: zeroHash }
      const commandId = randomUUID()
      const built = buildEventToAppend({
        streamId,
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
      const expectedRevision = tip.revision < 0 ? 'no_stream' : tip.revision
      const result = await this.store.appendToStreams([
        { streamId, expectedRevision, events: [built] },
      ])
      this.tips.set(streamId, { revision: tip.revision + 1, hash: built.metadata.hash })
      position = result.position
    }
    return position
  }
}
