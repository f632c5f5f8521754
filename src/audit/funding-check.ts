import type { LedgerEvent } from '../../domain/events'
import { parseAccount, type ParsedAccount, type Posting } from '../../domain/postings'

/**
 * The funding report's identities (API.md), rechecked while the log is replayed. The flows come
 * from the events' own figures (bonus granted, redeemed, expired, cancelled and recovered, the
 * budget); what is outstanding and available comes from the posting balances. The identities
 * then tie the two together: a posting that drifted from its event, or an event that moved
 * money it did not have, breaks one of them at the event that did it.
 *
 *   bonusGrantedCents = bonusRedeemedCents + bonusOutstandingCents + bonusExpiredCents
 *                       + bonusReducedCents
 *   budgetAvailableCents = budgetCents - bonusGrantedCents + bonusExpiredCents
 *                          + bonusReducedCents + bonusRecoveredCents
 *
 * Checking after every event that touches a programme costs a few additions, and covers the
 * end of the log too.
 */

/** One programme's figures: flows from events, balances from postings (credit positive). */
interface ProgrammeFigures {
  budgetCents: number
  bonusGrantedCents: number
  bonusRedeemedCents: number
  bonusExpiredCents: number
  bonusReducedCents: number
  bonusRecoveredCents: number
  /** Credit balance of the programme's bonus-outstanding account. */
  bonusOutstandingCents: number
  /** Credit balance of the programme's budget-available account. */
  budgetAvailableCents: number
}

export type FundingProblemKind = 'funding_identity_broken' | 'budget_overspent' | 'bonus_overspent'

export interface FundingProblem {
  readonly kind: FundingProblemKind
  readonly detail: string
}

const emptyFigures = (): ProgrammeFigures => ({
  budgetCents: 0,
  bonusGrantedCents: 0,
  bonusRedeemedCents: 0,
  bonusExpiredCents: 0,
  bonusReducedCents: 0,
  bonusRecoveredCents: 0,
  bonusOutstandingCents: 0,
  budgetAvailableCents: 0,
})

/** Replays events and postings into per-programme figures and checks the identities. */
export class FundingCheck {
  private readonly programmes = new Map<string, ProgrammeFigures>()
  /** Parsed accounts, so each distinct name is parsed once however often it is posted to. */
  private readonly parsedAccounts = new Map<string, ParsedAccount | null>()

  /** Applies one event and its postings; the first identity it breaks, if any. */
  apply(event: LedgerEvent, postings: readonly Posting[]): FundingProblem | undefined {
    if (postings.length === 0) return undefined
    this.applyFlows(event)

    const touched: string[] = []
    for (const posting of postings) {
      const programmeId = this.applyPosting(posting)
      if (programmeId !== undefined && !touched.includes(programmeId)) touched.push(programmeId)
    }
    for (const programmeId of touched) {
      const problem = checkIdentities(programmeId, this.figuresOf(programmeId))
      if (problem !== undefined) return problem
    }
    return undefined
  }

  private figuresOf(programmeId: string): ProgrammeFigures {
    let figures = this.programmes.get(programmeId)
    if (figures === undefined) {
      figures = emptyFigures()
      this.programmes.set(programmeId, figures)
    }
    return figures
  }

  /** The flows each money-moving event states in its own data. */
  private applyFlows(event: LedgerEvent): void {
    switch (event.type) {
      case 'ProgrammeCreated': {
        const figures = this.figuresOf(event.data.programmeId)
        for (const funder of event.data.funders) figures.budgetCents += funder.contributionCents
        return
      }
      case 'ProgrammeBudgetIncreased':
        this.figuresOf(event.data.programmeId).budgetCents += event.data.amountCents
        return
      case 'VoucherPurchased':
        this.figuresOf(event.data.programmeId).bonusGrantedCents += event.data.bonusCents
        return
      case 'VoucherRedeemed':
        if (event.data.kind === 'bonus') {
          this.figuresOf(event.data.programmeId).bonusRedeemedCents += event.data.amountCents
        }
        return
      case 'VoucherExpired':
        if (event.data.kind === 'bonus') {
          this.figuresOf(event.data.programmeId).bonusExpiredCents += event.data.expiredCents
        }
        return
      case 'PurchaseRefunded': {
        const figures = this.figuresOf(event.data.programmeId)
        figures.bonusReducedCents += event.data.bonusCancelledCents
        figures.bonusRecoveredCents += event.data.recoveredCents
        return
      }
      default:
        return
    }
  }

  /** Moves one posting into the balances; the programme whose figures it changed, if any. */
  private applyPosting(posting: Posting): string | undefined {
    let parsed = this.parsedAccounts.get(posting.account)
    if (parsed === undefined) {
      parsed = parseAccount(posting.account) ?? null
      this.parsedAccounts.set(posting.account, parsed)
    }
    if (parsed === null || parsed.programmeId === undefined) return undefined

    const figures = this.figuresOf(parsed.programmeId)
    if (parsed.kind === 'bonusOutstanding') figures.bonusOutstandingCents -= posting.amountCents
    else if (parsed.kind === 'budgetAvailable') figures.budgetAvailableCents -= posting.amountCents
    else return undefined
    return parsed.programmeId
  }
}

const checkIdentities = (
  programmeId: string,
  f: ProgrammeFigures,
): FundingProblem | undefined => {
  const bonusAccountedCents =
    f.bonusRedeemedCents + f.bonusOutstandingCents + f.bonusExpiredCents + f.bonusReducedCents
  if (f.bonusGrantedCents !== bonusAccountedCents) {
    return {
      kind: 'funding_identity_broken',
      detail:
        `programme ${programmeId}: bonus granted ${f.bonusGrantedCents} != redeemed ` +
        `${f.bonusRedeemedCents} + outstanding ${f.bonusOutstandingCents} + expired ` +
        `${f.bonusExpiredCents} + reduced ${f.bonusReducedCents}`,
    }
  }

  const availableCents =
    f.budgetCents -
    f.bonusGrantedCents +
    f.bonusExpiredCents +
    f.bonusReducedCents +
    f.bonusRecoveredCents
  if (f.budgetAvailableCents !== availableCents) {
    return {
      kind: 'funding_identity_broken',
      detail:
        `programme ${programmeId}: budget available ${f.budgetAvailableCents} != budget ` +
        `${f.budgetCents} - granted ${f.bonusGrantedCents} + expired ${f.bonusExpiredCents} ` +
        `+ reduced ${f.bonusReducedCents} + recovered ${f.bonusRecoveredCents}`,
    }
  }
  return checkNonNegative(programmeId, f)
}

/** Rule 1 of DOMAIN.md, and its mirror: no bonus is spent that was not granted. */
const checkNonNegative = (programmeId: string, f: ProgrammeFigures): FundingProblem | undefined => {
  if (f.budgetAvailableCents < 0) {
    return {
      kind: 'budget_overspent',
      detail: `programme ${programmeId}: budget available ${f.budgetAvailableCents}`,
    }
  }
  if (f.bonusOutstandingCents < 0) {
    return {
      kind: 'bonus_overspent',
      detail: `programme ${programmeId}: bonus outstanding ${f.bonusOutstandingCents}`,
    }
  }
  return undefined
}
