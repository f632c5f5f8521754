import type { MerchantCategory } from '../domain/events'
import type { Projection, ProjectedEvent } from './projection'
import { noDocs, noKeys, single } from './ledger'

/**
 * The merchants directory: who each merchant is and where, from `MerchantRegistered`, and
 * whether it is suspended. The funding report's breakdowns by grouping, commune and category
 * read it, and so can dashboards.
 */
export interface MerchantDoc {
  readonly merchantId: string
  readonly legalName: string
  readonly siret: string
  readonly communeCode: string
  readonly communeName: string
  readonly groupingSiren: string
  readonly groupingName: string
  readonly category: MerchantCategory
  readonly status: 'active' | 'suspended'
  readonly registeredAt: string
}

const keysOf = (event: ProjectedEvent): readonly string[] => {
  switch (event.type) {
    case 'MerchantRegistered':
    case 'MerchantSuspended':
    case 'MerchantReinstated':
      return [event.data.merchantId]
    default:
      return noKeys
  }
}

const apply = (
  event: ProjectedEvent,
  current: ReadonlyMap<string, MerchantDoc | undefined>,
): ReadonlyMap<string, MerchantDoc> => {
  if (event.type === 'MerchantRegistered') {
    const d = event.data
    return single(d.merchantId, {
      merchantId: d.merchantId,
      legalName: d.legalName,
      siret: d.siret,
      communeCode: d.communeCode,
      communeName: d.communeName,
      groupingSiren: d.groupingSiren,
      groupingName: d.groupingName,
      category: d.category,
      status: 'active',
      registeredAt: event.occurredAt,
    })
  }
  if (event.type !== 'MerchantSuspended' && event.type !== 'MerchantReinstated') return noDocs

  const doc = current.get(event.data.merchantId)
  if (doc === undefined) return noDocs
  const status = event.type === 'MerchantSuspended' ? 'suspended' : 'active'
  return single(doc.merchantId, { ...doc, status })
}

/** Keyed by merchant id. */
export const merchantsProjection: Projection<MerchantDoc> = {
  name: 'merchants',
  version: 1,
  eventTypes: ['MerchantRegistered', 'MerchantSuspended', 'MerchantReinstated'],
  keysOf,
  apply,
}
