import { parseAccount, type AccountKind } from '../../domain/postings'

/**
 * The French chart of accounts (plan comptable général, PCG) for the FEC export. Each account of
 * `domain/postings.ts` maps to one PCG account; accounts that exist once per merchant, funder or
 * programme carry that party as the auxiliary account (`CompAuxNum`), the way French ledgers
 * keep one sub-ledger per supplier.
 *
 * | our account                        | PCG   | why                                              |
 * | ---------------------------------- | ----- | ------------------------------------------------ |
 * | assets:processor:clearing          | 512   | the money held for the scheme by the payment     |
 * |                                    |       | processor, used as the scheme's bank             |
 * | assets:programmes:P:funders:F      | 4417  | a subsidy a public body committed and still has  |
 * |                                    |       | to transfer (subventions d'exploitation, à       |
 * |                                    |       | recevoir); auxiliary: the funder                 |
 * | equity:programmes:P:budget-avail.  | 4419  | subsidy money received in advance and not yet    |
 * |                                    |       | granted (avances sur subventions); aux.: P       |
 * | liabilities:programmes:P:bonus-out.| 4671  | bonus vouchers held by customers, a debt to      |
 * |                                    |       | whoever spends them (comptes créditeurs divers); |
 * |                                    |       | auxiliary: the programme                         |
 * | liabilities:merchants:M:payable    | 401   | the merchant is the scheme's supplier of goods   |
 * |                                    |       | (fournisseurs); auxiliary: the merchant          |
 * | liabilities:merchants:M:payout-... | 4012  | a payout sent and not yet confirmed: still owed  |
 * |                                    |       | to the same supplier, kept apart so 401 shows    |
 * |                                    |       | what remains to send; auxiliary: the merchant    |
 * | memo:programmes:P:purchased:issued | 809   | purchased vouchers are an off-balance commitment |
 * |                                    |       | (class 8, engagements): 809 is the counterpart,  |
 * | memo:...:purchased:outstanding     | 8011  | and 801x what became of the vouchers sold:       |
 * | memo:...:purchased:redeemed        | 8012  | still spendable, spent, expired, refunded;       |
 * | memo:...:purchased:expired         | 8013  | auxiliary: the programme                         |
 * | memo:...:purchased:refunded        | 8014  |                                                  |
 *
 * 4012 and the 801x/809 sub-accounts are sub-accounts this scheme opens under the PCG classes;
 * the public accountant may prefer other sub-account numbers, which only this table changes.
 */
export interface FecAccount {
  readonly compteNum: string
  readonly compteLib: string
  /** The party of the auxiliary account, when the account exists once per party. */
  readonly auxiliary?: { readonly kind: 'merchant' | 'funder' | 'programme'; readonly id: string }
}

const pcg: Readonly<Record<AccountKind, { compteNum: string; compteLib: string }>> = {
  processorClearing: { compteNum: '512', compteLib: 'Banque - prestataire de paiement' },
  funderContributions: { compteNum: '4417', compteLib: 'Subventions à recevoir' },
  budgetAvailable: { compteNum: '4419', compteLib: 'Avances sur subventions - budget disponible' },
  bonusOutstanding: { compteNum: '4671', compteLib: 'Bons bonus en circulation' },
  merchantPayable: { compteNum: '401', compteLib: 'Fournisseurs - commerçants' },
  merchantPayoutInFlight: { compteNum: '4012', compteLib: 'Fournisseurs - virements en cours' },
  purchasedIssued: { compteNum: '809', compteLib: "Contrepartie des bons d'achat émis" },
  purchasedOutstanding: { compteNum: '8011', compteLib: "Bons d'achat en circulation" },
  purchasedRedeemed: { compteNum: '8012', compteLib: "Bons d'achat utilisés" },
  purchasedExpired: { compteNum: '8013', compteLib: "Bons d'achat expirés" },
  purchasedRefunded: { compteNum: '8014', compteLib: "Bons d'achat remboursés" },
}

/**
 * The PCG account of one of our accounts. Postings only ever name accounts of the chart, so an
 * unknown name is a broken invariant, not bad input.
 */
export const fecAccountOf = (account: string): FecAccount => {
  const parsed = parseAccount(account)
  if (parsed === undefined) throw new Error(`assertion failed: ${account} is not in the chart`)
  const base = pcg[parsed.kind]
  if (parsed.merchantId !== undefined) {
    return { ...base, auxiliary: { kind: 'merchant', id: parsed.merchantId } }
  }
  if (parsed.funderId !== undefined) {
    return { ...base, auxiliary: { kind: 'funder', id: parsed.funderId } }
  }
  if (parsed.programmeId !== undefined) {
    return { ...base, auxiliary: { kind: 'programme', id: parsed.programmeId } }
  }
  return base
}
