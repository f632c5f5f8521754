import { randomUUID } from 'node:crypto'
import type { CommandContext } from '../../domain/decider'
import type { Id } from '../../domain/ids'
import type { Cents } from '../../domain/money'
import { streams } from '../../domain/streams'
import type { Territory } from '../../domain/territory'
import type { Instant } from '../../domain/time'
import {
  decideCreateProgramme,
  decideIncreaseBudget,
  initialProgrammeState,
  programmeVoucherIds,
  type ProgrammeState,
} from '../../domain/programme'
import {
  decideRegisterMerchant,
  decideReinstateMerchant,
  decideSuspendMerchant,
  type MerchantState,
} from '../../domain/merchant'
import {
  decideRedeemVoucher,
  decideRefundPurchase,
  decideRunExpiry,
  decideVoucherPurchase,
  type VoucherState,
} from '../../domain/voucher'
import {
  decideRecordPayoutNotice,
  decideRunPayouts,
  type PayoutState,
  type PayoutsLedgerState,
} from '../../domain/payout'
import { decideMoveStock, type StockState } from '../../domain/stock'
import { foldOfStream, type StreamFold } from '../../domain/folds'
import { canonicalJson, sha256Hex } from '../audit/hash'
import type { Caller, LedgerCommands, ProcessorEvent } from '../http/write-routes'
import type { CommandExecutor, CommandOutcome, CommandRequest, IdempotencyKey } from './executor'
import type { PayablesFold } from './payables'
import { voucherIdsFor } from './voucher-ids'

/**
 * The application: each command of the API turned into a request for the command handler,
 * with the streams its decider reads, its idempotency keys and its context. No rule lives here;
 * the deciders in `domain/` hold them all.
 */
export interface LedgerDeps {
  readonly executor: CommandExecutor
  readonly territory: Territory
  readonly payables: PayablesFold
  readonly voucherIdSecret: string
  readonly onOutcome?: (commandType: string, outcome: CommandOutcome<unknown>) => void
}

/** The fold of each stream category for the command side. */
export const foldFor = (streamId: string): StreamFold => {
  const fold = foldOfStream(streamId)
  if (fold === undefined) throw new Error(`assertion failed: no fold for stream ${streamId}`)
  return fold
}

const requestHashOf = (value: unknown): string => sha256Hex(canonicalJson(value))

export const createLedger = (deps: LedgerDeps): LedgerCommands => {
  const run = async <R>(
    commandType: string,
    caller: Caller,
    spec: {
      commandId: string | undefined
      keys: readonly IdempotencyKey[]
      request: unknown
      occurredAt?: Instant | undefined
      statedTimeOrdered?: boolean
    } & Pick<CommandRequest<R>, 'streamIds' | 'holdLocksUntilDurable' | 'prepare'> & {
        decide: (
          states: ReadonlyMap<string, unknown>,
          context: CommandContext,
        ) => ReturnType<CommandRequest<R>['decide']>
      },
  ): Promise<CommandOutcome<unknown>> => {
    const context: CommandContext = {
      recordedAt: caller.recordedAt,
      occurredAt: spec.occurredAt ?? caller.recordedAt,
      occurredAtStated: spec.occurredAt !== undefined && spec.statedTimeOrdered !== false,
    }
    const headerKey: IdempotencyKey[] =
      caller.idempotencyKey === undefined
        ? []
        : [
            {
              key: `header:${caller.idempotencyKey}`,
              requestHash: requestHashOf({ commandType, request: spec.request }),
            },
          ]
    const outcome = await deps.executor.execute<R>({
      commandType,
      commandId: spec.commandId ?? caller.idempotencyKey ?? randomUUID(),
      idempotency: [...spec.keys, ...headerKey],
      actor: `${caller.principal.role}:${caller.principal.keyId}`,
      correlationId: caller.correlationId,
      context,
      streamIds: spec.streamIds,
      holdLocksUntilDurable: spec.holdLocksUntilDurable,
      prepare: spec.prepare,
      decide: (states) => spec.decide(states, context),
    })
    deps.onOutcome?.(commandType, outcome)
    return outcome
  }
  const keyOf = (name: string, id: string, request: unknown): IdempotencyKey => ({
    key: `${name}:${id}`,
    requestHash: requestHashOf(request),
  })
  const state = <S>(states: ReadonlyMap<string, unknown>, streamId: string): S =>
    states.get(streamId) as S

  const refund = (
    purchaseId: string,
    refundId: string,
    caller: Caller,
    occurredAt: Instant | undefined,
    extraKeys: readonly IdempotencyKey[],
    statedTimeOrdered: boolean,
  ) => {
    const ids = voucherIdsFor(deps.voucherIdSecret, purchaseId)
    const purchasedStream = streams.voucher(ids.voucherId)
    const bonusStream = streams.voucher(ids.bonusVoucherId)
    return run('RefundPurchase', caller, {
      commandId: `refund:${refundId}`,
      keys: [keyOf('refund', refundId, { purchaseId, refundId }), ...extraKeys],
      request: { purchaseId, refundId },
      occurredAt,
      statedTimeOrdered,
      streamIds: async (peek) => {
        const purchased = (await peek(purchasedStream)) as VoucherState
        const programmeId = purchased.issued ? purchased.programmeId : undefined
        return [
          purchasedStream,
          bonusStream,
          ...(programmeId === undefined ? [] : [streams.programme(programmeId)]),
        ]
      },
      decide: (states, context) => {
        const purchased = state<VoucherState>(states, purchasedStream)
        const bonus = state<VoucherState>(states, bonusStream)
        const programme = purchased.issued
          ? state<ProgrammeState>(states, streams.programme(purchased.programmeId))
          : initialProgrammeState
        return decideRefundPurchase(
          { refundId: refundId as Id, purchaseId: purchaseId as Id },
          purchased,
          bonus.issued ? bonus : undefined,
          programme,
          context,
        )
      },
    })
  }

  return {
    createProgramme: (body, caller) => {
      const stream = streams.programme(body.programmeId)
      return run('CreateProgramme', caller, {
        commandId: `programme:${body.programmeId}`,
        keys: [keyOf('programme', body.programmeId, body)],
        request: body,
        occurredAt: body.occurredAt,
        streamIds: [stream],
        decide: (states, context) =>
          decideCreateProgramme(
            {
              ...body,
              minVoucherCents: body.minVoucherCents ?? null,
              maxVoucherCents: body.maxVoucherCents ?? null,
              maxBonusPerCustomerCents: body.maxBonusPerCustomerCents ?? null,
            },
            state(states, stream),
            context,
          ),
      })
    },

    increaseBudget: (programmeId, body, caller) => {
      const stream = streams.programme(programmeId)
      const request = { programmeId, ...body }
      return run('IncreaseBudget', caller, {
        commandId: `budget-increase:${programmeId}:${body.increaseId}`,
        keys: [keyOf(`budget-increase:${programmeId}`, body.increaseId, request)],
        occurredAt: body.occurredAt,
        request,
        streamIds: [stream],
        decide: (states, context) =>
          decideIncreaseBudget(
            { ...body, programmeId: programmeId as Id },
            state(states, stream),
            context,
          ),
      })
    },

    registerMerchant: (body, caller) => {
      const stream = streams.merchant(body.merchantId)
      return run('RegisterMerchant', caller, {
        commandId: `merchant:${body.merchantId}`,
        keys: [keyOf('merchant', body.merchantId, body)],
        request: body,
        occurredAt: body.occurredAt,
        streamIds: [stream],
        decide: (states, context) =>
          decideRegisterMerchant(body, state(states, stream), deps.territory, context),
      })
    },

    suspendMerchant: (merchantId, body, caller) => {
      const stream = streams.merchant(merchantId)
      return run('SuspendMerchant', caller, {
        commandId: undefined,
        keys: [],
        request: { merchantId, ...body },
        occurredAt: body.occurredAt,
        streamIds: [stream],
        decide: (states, context) =>
          decideSuspendMerchant(
            { merchantId: merchantId as Id, ...body },
            state(states, stream),
            context,
          ),
      })
    },

    reinstateMerchant: (merchantId, body, caller) => {
      const stream = streams.merchant(merchantId)
      return run('ReinstateMerchant', caller, {
        commandId: undefined,
        keys: [],
        request: { merchantId, ...body },
        occurredAt: body.occurredAt,
        streamIds: [stream],
        decide: (states, context) =>
          decideReinstateMerchant(
            { merchantId: merchantId as Id, ...body },
            state(states, stream),
            context,
          ),
      })
    },

    purchase: (body, caller) => {
      const ids = voucherIdsFor(deps.voucherIdSecret, body.purchaseId)
      const programmeStream = streams.programme(body.programmeId)
      const merchantStream = streams.merchant(body.merchantId)
      return run('PurchaseVoucher', caller, {
        commandId: `purchase:${body.purchaseId}`,
        keys: [keyOf('purchase', body.purchaseId, body)],
        request: body,
        occurredAt: body.occurredAt,
        streamIds: [programmeStream, merchantStream],
        decide: (states, context) =>
          decideVoucherPurchase(
            {
              purchaseId: body.purchaseId,
              programmeId: body.programmeId,
              merchantId: body.merchantId,
              customerId: body.customerId,
              amountCents: body.amountCents,
              paymentReference: body.paymentReference,
              voucherId: ids.voucherId as Id,
              bonusVoucherId: ids.bonusVoucherId as Id,
            },
            state(states, programmeStream),
            state(states, merchantStream),
            context,
          ),
      })
    },

    refund: (purchaseId, body, caller) =>
      refund(purchaseId, body.refundId, caller, body.occurredAt, [], true),

    redeem: (voucherId, body, caller) => {
      const voucherStream = streams.voucher(voucherId)
      const merchantStream = streams.merchant(body.merchantId)
      const request = { voucherId, ...body }
      return run('RedeemVoucher', caller, {
        commandId: `redemption:${body.redemptionId}`,
        keys: [keyOf('redemption', body.redemptionId, request)],
        request,
        occurredAt: body.occurredAt,
        streamIds: [voucherStream, merchantStream],
        decide: (states, context) =>
          decideRedeemVoucher(
            {
              redemptionId: body.redemptionId,
              voucherId: voucherId as Id,
              merchantId: body.merchantId,
              amountCents: body.amountCents,
            },
            state(states, voucherStream),
            state(states, merchantStream),
            context,
          ),
      })
    },

    runExpiry: (programmeId, body, caller) => {
      const programmeStream = streams.programme(programmeId)
      const request = { programmeId, ...body }
      return run('RunExpiry', caller, {
        commandId: `expiry-run:${programmeId}:${body.runId}`,
        keys: [keyOf(`expiry-run:${programmeId}`, body.runId, request)],
        occurredAt: body.occurredAt,
        request,
        streamIds: async (peek) => {
          const programme = (await peek(programmeStream)) as ProgrammeState
          const voucherIds = programme.created ? programmeVoucherIds(programme) : []
          return [programmeStream, ...voucherIds.map((id) => streams.voucher(id))]
        },
        decide: (states, context) => {
          const programme = state<ProgrammeState>(states, programmeStream)
          const voucherIds = programme.created ? programmeVoucherIds(programme) : []
          const vouchers = new Map(
            voucherIds.map((id) => [
              id as string,
              state<VoucherState>(states, streams.voucher(id)),
            ]),
          )
          return decideRunExpiry(
            { runId: body.runId, programmeId: programmeId as Id },
            programme,
            vouchers,
            context,
          )
        },
      })
    },

    runPayouts: (body, caller) => {
      const ledgerStream = streams.payoutsLedger()
      return run('RunPayouts', caller, {
        commandId: `payout-run:${body.runId}`,
        keys: [keyOf('payout-run', body.runId, body)],
        request: body,
        occurredAt: body.occurredAt,
        streamIds: [ledgerStream],
        holdLocksUntilDurable: true,
        prepare: () => deps.payables.catchUp(),
        decide: (states, context) =>
          decideRunPayouts(
            { runId: body.runId },
            state<PayoutsLedgerState>(states, ledgerStream),
            deps.payables.owed() as ReadonlyMap<string, Cents>,
            context,
          ),
      })
    },

    recordProcessorEvent: (event: ProcessorEvent, caller) => {
      const processorKey = keyOf('processor', event.eventId, event)
      if (event.type === 'payment.refunded') {
        // Processors deliver late and out of order: their time is recorded but not held to the
        // ordering rule that binds the operator's stated times.
        return refund(
          event.data.purchaseId,
          event.data.refundId,
          caller,
          event.occurredAt,
          [processorKey],
          false,
        )
      }
      const payoutStream = streams.payout(event.data.payoutId)
      return run('RecordPayoutNotice', caller, {
        commandId: `processor:${event.eventId}`,
        keys: [processorKey],
        request: event,
        occurredAt: event.occurredAt,
        statedTimeOrdered: false,
        streamIds: [payoutStream],
        decide: (states, context) =>
          decideRecordPayoutNotice(
            {
              processorEventId: event.eventId as Id,
              payoutId: event.data.payoutId as Id,
              outcome: event.type === 'payout.paid' ? 'paid' : 'failed',
              reason: event.type === 'payout.failed' ? event.data.reason : null,
              noticeOccurredAt: event.occurredAt,
            },
            state<PayoutState>(states, payoutStream),
            context,
          ),
      })
    },

    moveStock: (merchantId, body, caller) => {
      const stockStream = streams.stock(merchantId, body.sku)
      const merchantStream = streams.merchant(merchantId)
      const request = { merchantId, ...body }
      return run('MoveStock', caller, {
        commandId: `stock-movement:${merchantId}:${body.movementId}`,
        keys: [keyOf(`stock-movement:${merchantId}`, body.movementId, request)],
        occurredAt: body.occurredAt,
        request,
        streamIds: [stockStream, merchantStream],
        decide: (states, context) =>
          decideMoveStock(
            { ...body, merchantId: merchantId as Id, reason: body.reason ?? null },
            state<MerchantState>(states, merchantStream),
            state<StockState>(states, stockStream),
            context,
          ),
      })
    },
  }
}
