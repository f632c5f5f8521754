import type { Cents } from './money'
import { cents } from './money'
import type { EventOf, EventType, LedgerEvent, PayoutStatus } from './events'

/**
 * The mapping from events to double-entry postings: the one place where money moves. Balances,
 * the funding report and every export are computed from what `postingsOf` returns, so they
 * cannot disagree with each other.
 *
 * Sign convention: a positive amount is a debit, a negative amount a credit, and the postings of
 * one event always sum to zero. Accounts are colon-separated paths that hledger reads as a tree;
 * the top level says the hledger account type (assets, liabilities, equity), and `memo` holds the
 * off-balance pair that tracks purchased vouchers, whose money is owed to the merchant at once.
 */

/** One line of a double-entry transaction: positive debits, negative credits the account. */
export interface Posting {
  readonly account: string
  readonly amountCents: Cents
}

/**
 * Identifiers may contain `:`, which hledger reads as an account separator; `%` is outside the
 * identifier alphabet, so percent-encoding the colon keeps every id one segment and reversible.
 */
export const accountSegment = (id: string): string =>
  id.includes(':') ? id.replace(/:/g, '%3A') : id

/** The inverse of `accountSegment`, for readers that take an id back out of an account. */
export const idOfAccountSegment = (segment: string): string => segment.replace(/%3A/g, ':')

const programmePrefix = (programmeId: string): string => `programmes:${accountSegment(programmeId)}`
const merchantPrefix = (merchantId: string): string => `merchants:${accountSegment(merchantId)}`

/** The accounts of one programme, named once. */
interface ProgrammeAccounts {
  readonly budgetAvailable: string
  readonly bonusOutstanding: string
  readonly purchasedIssued: string
  readonly purchasedOutstanding: string
  readonly purchasedRedeemed: string
  readonly purchasedExpired: string
  readonly purchasedRefunded: string
}

/** The accounts of one merchant, named once. */
interface MerchantAccounts {
  readonly payable: string
  readonly payoutInFlight: string
}

/**
 * Account names already made, per programme and per merchant. A replay of a million events asks
 * for the same few thousand names millions of times; making each once saves that allocation,
 * and the same string object makes comparing names a pointer test. The cache only remembers
 * what a pure function returned, so it changes no answer.
 */
const namedProgrammes = new Map<string, ProgrammeAccounts>()
const namedMerchants = new Map<string, MerchantAccounts>()

/**
 * Names remembered per kind before the cache starts over: far above the scheme's merchants and
 * programmes, and a bound on memory if ids ever came from an unbounded source.
 */
const accountNamesCachedMax = 100_000

const programmeAccounts = (programmeId: string): ProgrammeAccounts => {
  const known = namedProgrammes.get(programmeId)
  if (known !== undefined) return known
  const prefix = programmePrefix(programmeId)
  const named: ProgrammeAccounts = {
    budgetAvailable: `equity:${prefix}:budget-available`,
    bonusOutstanding: `liabilities:${prefix}:bonus-outstanding`,
    purchasedIssued: `memo:${prefix}:purchased:issued`,
    purchasedOutstanding: `memo:${prefix}:purchased:outstanding`,
    purchasedRedeemed: `memo:${prefix}:purchased:redeemed`,
    purchasedExpired: `memo:${prefix}:purchased:expired`,
    purchasedRefunded: `memo:${prefix}:purchased:refunded`,
  }
  if (namedProgrammes.size >= accountNamesCachedMax) namedProgrammes.clear()
  namedProgrammes.set(programmeId, named)
  return named
}

const merchantAccounts = (merchantId: string): MerchantAccounts => {
  const known = namedMerchants.get(merchantId)
  if (known !== undefined) return known
  const prefix = merchantPrefix(merchantId)
  const named: MerchantAccounts = {
    payable: `liabilities:${prefix}:payable`,
    payoutInFlight: `liabilities:${prefix}:payout-in-flight`,
  }
  if (namedMerchants.size >= accountNamesCachedMax) namedMerchants.clear()
  namedMerchants.set(merchantId, named)
  return named
}

/**
 * The chart of accounts. Every account a posting names comes from one of these, so exports,
 * balances and the verification agree on the names. The normal balance of each is in its comment.
 */
export const accounts = {
  /**
   * What the payment processor holds for the scheme: customers' payments in, refunds and paid
   * payouts out. Debit balance. Bonus money reaches merchants through it too, so it goes below
   * zero by what the funders still have to transfer (funders' transfers are not ledger events).
   */
  processorClearing: 'assets:processor:clearing',

  /** What a funder committed to a programme (a receivable from the funder). Debit balance. */
  funderContributions: (programmeId: string, funderId: string): string =>
    `assets:${programmePrefix(programmeId)}:funders:${accountSegment(funderId)}`,

  /** The public money of a programme not yet granted as bonus. Credit balance, never negative. */
  budgetAvailable: (programmeId: string): string =>
    programmeAccounts(programmeId).budgetAvailable,

  /** Bonus granted and neither spent, expired nor cancelled: owed to bonus holders. Credit. */
  bonusOutstanding: (programmeId: string): string =>
    programmeAccounts(programmeId).bonusOutstanding,

  /** What the scheme owes a merchant and has not yet sent. Credit balance; debit after refunds. */
  merchantPayable: (merchantId: string): string => merchantAccounts(merchantId).payable,

  /** Payouts sent to a merchant that the processor has not confirmed or failed yet. Credit. */
  merchantPayoutInFlight: (merchantId: string): string =>
    merchantAccounts(merchantId).payoutInFlight,

  /** Memo: face value of purchased vouchers sold in a programme. Debit balance. */
  purchasedIssued: (programmeId: string): string =>
    programmeAccounts(programmeId).purchasedIssued,

  /** Memo: purchased vouchers' value still spendable. Credit balance. */
  purchasedOutstanding: (programmeId: string): string =>
    programmeAccounts(programmeId).purchasedOutstanding,

  /** Memo: purchased vouchers' value spent at their merchant. Credit balance. */
  purchasedRedeemed: (programmeId: string): string =>
    programmeAccounts(programmeId).purchasedRedeemed,

  /** Memo: purchased vouchers' value left at expiry, kept by the merchant (breakage). Credit. */
  purchasedExpired: (programmeId: string): string =>
    programmeAccounts(programmeId).purchasedExpired,

  /** Memo: purchased vouchers' unredeemed value taken back by refunds. Credit balance. */
  purchasedRefunded: (programmeId: string): string =>
    programmeAccounts(programmeId).purchasedRefunded,
} as const

/** The kinds of account of the chart, for readers that classify postings by account. */
export type AccountKind =
  | 'processorClearing'
  | 'funderContributions'
  | 'budgetAvailable'
  | 'bonusOutstanding'
  | 'merchantPayable'
  | 'merchantPayoutInFlight'
  | 'purchasedIssued'
  | 'purchasedOutstanding'
  | 'purchasedRedeemed'
  | 'purchasedExpired'
  | 'purchasedRefunded'

/** An account taken apart: its kind and the ids it names. */
export interface ParsedAccount {
  readonly kind: AccountKind
  readonly programmeId?: string
  readonly merchantId?: string
  readonly funderId?: string
}

const programmeAccountKinds: Readonly<Record<string, AccountKind>> = {
  'equity:budget-available': 'budgetAvailable',
  'liabilities:bonus-outstanding': 'bonusOutstanding',
  'memo:purchased:issued': 'purchasedIssued',
  'memo:purchased:outstanding': 'purchasedOutstanding',
  'memo:purchased:redeemed': 'purchasedRedeemed',
  'memo:purchased:expired': 'purchasedExpired',
  'memo:purchased:refunded': 'purchasedRefunded',
}

/**
 * Takes an account of the chart apart, or answers undefined for a name outside it. Readers of
 * exports (verification, reports) use it instead of parsing names themselves.
 */
export const parseAccount = (account: string): ParsedAccount | undefined => {
  if (account === accounts.processorClearing) return { kind: 'processorClearing' }
  const parts = account.split(':')
  const [top, collection, idSegment, ...rest] = parts
  if (idSegment === undefined || top === undefined) return undefined
  const id = idOfAccountSegment(idSegment)

  if (collection === 'merchants' && top === 'liabilities' && rest.length === 1) {
    if (rest[0] === 'payable') return { kind: 'merchantPayable', merchantId: id }
    if (rest[0] === 'payout-in-flight') return { kind: 'merchantPayoutInFlight', merchantId: id }
    return undefined
  }
  if (collection !== 'programmes') return undefined

  if (top === 'assets' && rest.length === 2 && rest[0] === 'funders' && rest[1] !== undefined) {
    return { kind: 'funderContributions', programmeId: id, funderId: idOfAccountSegment(rest[1]) }
  }
  const kind = programmeAccountKinds[[top, ...rest].join(':')]
  return kind === undefined ? undefined : { kind, programmeId: id }
}

const debit = (account: string, amountCents: number): Posting => ({
  account,
  amountCents: cents(amountCents),
})

const credit = (account: string, amountCents: number): Posting => ({
  account,
  amountCents: cents(-amountCents),
})

/** A debit and a matching credit of one amount; nothing at all for zero. */
const transfer = (from: string, to: string, amountCents: number): readonly Posting[] =>
  amountCents === 0 ? [] : [debit(from, amountCents), credit(to, amountCents)]

/** Funders' money becomes budget available to the programme. */
const contributionPostings = (
  programmeId: string,
  funders: readonly { funderId: string; amountCents: number }[],
): readonly Posting[] =>
  funders.flatMap((funder) =>
    transfer(
      accounts.funderContributions(programmeId, funder.funderId),
      accounts.budgetAvailable(programmeId),
      funder.amountCents,
    ),
  )

/**
 * The customer's money is owed to the merchant at once; the bonus moves from the budget to the
 * bonus liability; the purchased voucher's face value enters the memo pair.
 */
const purchasePostings = (data: EventOf<'VoucherPurchased'>['data']): readonly Posting[] => [
  ...transfer(
    accounts.processorClearing,
    accounts.merchantPayable(data.merchantId),
    data.amountCents,
  ),
  ...transfer(
    accounts.budgetAvailable(data.programmeId),
    accounts.bonusOutstanding(data.programmeId),
    data.bonusCents,
  ),
  ...transfer(
    accounts.purchasedIssued(data.programmeId),
    accounts.purchasedOutstanding(data.programmeId),
    data.amountCents,
  ),
]

/**
 * A bonus spent is public money now owed to the merchant that took it; a purchased voucher
 * spent moves only the memo, because its merchant was owed the money at the purchase.
 */
const redemptionPostings = (data: EventOf<'VoucherRedeemed'>['data']): readonly Posting[] =>
  data.kind === 'bonus'
    ? transfer(
        accounts.bonusOutstanding(data.programmeId),
        accounts.merchantPayable(data.merchantId),
        data.amountCents,
      )
    : transfer(
        accounts.purchasedOutstanding(data.programmeId),
        accounts.purchasedRedeemed(data.programmeId),
        data.amountCents,
      )

/**
 * Rule 6: the merchant gives back the whole unredeemed part, split between the customer (out
 * through the processor) and the programme (bonus recovered); unspent bonus cancelled returns
 * to the budget. The merchant's debit equals the two credits because unredeemed = refunded +
 * recovered; the verification's balance check catches an event where it does not.
 */
const refundPostings = (data: EventOf<'PurchaseRefunded'>['data']): readonly Posting[] => {
  const merchantSide: readonly Posting[] = [
    debit(accounts.merchantPayable(data.merchantId), data.unredeemedCents),
    credit(accounts.processorClearing, data.refundedCents),
    credit(accounts.budgetAvailable(data.programmeId), data.recoveredCents),
  ].filter((posting) => posting.amountCents !== 0)

  return [
    ...merchantSide,
    ...transfer(
      accounts.bonusOutstanding(data.programmeId),
      accounts.budgetAvailable(data.programmeId),
      data.bonusCancelledCents,
    ),
    ...transfer(
      accounts.purchasedOutstanding(data.programmeId),
      accounts.purchasedRefunded(data.programmeId),
      data.unredeemedCents,
    ),
  ]
}

/** Unspent bonus returns to the budget; what remains on a purchased voucher is breakage. */
const expiryPostings = (data: EventOf<'VoucherExpired'>['data']): readonly Posting[] =>
  data.kind === 'bonus'
    ? transfer(
        accounts.bonusOutstanding(data.programmeId),
        accounts.budgetAvailable(data.programmeId),
        data.expiredCents,
      )
    : transfer(
        accounts.purchasedOutstanding(data.programmeId),
        accounts.purchasedExpired(data.programmeId),
        data.expiredCents,
      )

/**
 * Where a payout's amount sits in each status: in flight, gone out of clearing once paid, back
 * in the merchant's payable once failed. Every status transition then is one transfer from the
 * old place to the new, which covers late and out-of-order notices (paid then failed, failed
 * then paid) without a case per pair.
 */
const payoutStatusAccount = (status: PayoutStatus, merchantId: string): string => {
  switch (status) {
    case 'in_flight':
      return accounts.merchantPayoutInFlight(merchantId)
    case 'paid':
      return accounts.processorClearing
    case 'failed':
      return accounts.merchantPayable(merchantId)
  }
}

const payoutNoticePostings = (
  data: EventOf<'PayoutNoticeRecorded'>['data'],
): readonly Posting[] =>
  data.statusBefore === data.statusAfter
    ? []
    : transfer(
        payoutStatusAccount(data.statusBefore, data.merchantId),
        payoutStatusAccount(data.statusAfter, data.merchantId),
        data.amountCents,
      )

/**
 * The types of the events that move money: `postingsOf` gives no line for any other. Read
 * models built from postings read only these (a test checks the list against the switch below).
 */
export const postedEventTypes = [
  'ProgrammeCreated',
  'ProgrammeBudgetIncreased',
  'VoucherPurchased',
  'VoucherRedeemed',
  'PurchaseRefunded',
  'VoucherExpired',
  'PayoutScheduled',
  'PayoutNoticeRecorded',
] as const satisfies readonly EventType[]

/**
 * The postings of one event: empty for events that move no money, otherwise lines that sum to
 * zero with no zero-amount line. The switch is exhaustive, so a new event type cannot be
 * forgotten here without the compiler saying so.
 */
export const postingsOf = (event: LedgerEvent): readonly Posting[] => {
  switch (event.type) {
    case 'ProgrammeCreated':
      return contributionPostings(
        event.data.programmeId,
        event.data.funders.map((f) => ({ funderId: f.funderId, amountCents: f.contributionCents })),
      )
    case 'ProgrammeBudgetIncreased':
      return contributionPostings(event.data.programmeId, [event.data])
    case 'VoucherPurchased':
      return purchasePostings(event.data)
    case 'VoucherRedeemed':
      return redemptionPostings(event.data)
    case 'PurchaseRefunded':
      return refundPostings(event.data)
    case 'VoucherExpired':
      return expiryPostings(event.data)
    case 'PayoutScheduled':
      return transfer(
        accounts.merchantPayable(event.data.merchantId),
        accounts.merchantPayoutInFlight(event.data.merchantId),
        event.data.amountCents,
      )
    case 'PayoutNoticeRecorded':
      return payoutNoticePostings(event.data)
    case 'BonusGranted':
    case 'BonusReleased':
    case 'ExpiryRunCompleted':
    case 'MerchantRegistered':
    case 'MerchantSuspended':
    case 'MerchantReinstated':
    case 'BonusVoucherIssued':
    case 'BonusVoucherReduced':
    case 'PayoutRunCompleted':
    case 'StockMoved':
    case 'CommandAccepted':
    case 'LedgerSealed':
      return []
  }
}

/** The sum of some postings: zero for the postings of any one event, and for any set of them. */
export const sumPostingsCents = (postings: readonly Posting[]): Cents =>
  cents(postings.reduce((sum, posting) => sum + posting.amountCents, 0))

/** Whether postings balance, for verification and tests. */
export const isBalanced = (postings: readonly Posting[]): boolean =>
  sumPostingsCents(postings) === 0
