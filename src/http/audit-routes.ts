import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import {
  exportFileNames,
  exportFormats,
  exportMediaTypes,
  type ExportFormat,
} from '../audit/export'
import { ledgerPageSizeMax } from '../limits'
import type { Role } from './auth'
import { Problem } from './problems'
import type { Guard, ServerDeps } from './server'

/**
 * The auditors' routes: the log itself in ledger order, its verification, and the exports.
 * Auditors may do all of this; the dashboard role may not. Exports are streamed page by page,
 * so their memory stays flat whatever the size of the log.
 */
export interface LedgerPage {
  readonly events: readonly Record<string, unknown>[]
  readonly next: number | null
}

export interface AuditService {
  events(afterPosition: number, limit: number): Promise<LedgerPage>
  exportStream(format: ExportFormat): AsyncIterable<string | Buffer>
  verify(): Promise<unknown>
}

const auditors: readonly Role[] = ['auditor', 'operator']

const wholeNumber = (raw: unknown, field: string, fallback: number, max: number): number => {
  if (raw === undefined) return fallback
  const value = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(value) || value > max) {
    throw new Problem('invalid_request', `${field}: expected a whole number up to ${max}`, [
      { field, reason: `expected a whole number from 0 to ${max}` },
    ])
  }
  return value
}

export const registerAuditRoutes = (app: FastifyInstance, deps: ServerDeps, guard: Guard): void => {
  app.get(
    '/v1/ledger/events',
    {
      ...guard(auditors),
      schema: {
        summary: 'The log in ledger order, with hashes; page with ?after=<position>&limit=<n>',
        querystring: {
          type: 'object',
          properties: {
            after: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: ledgerPageSizeMax },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as Record<string, unknown>
      const after = wholeNumber(query.after, 'after', 0, Number.MAX_SAFE_INTEGER)
      const limit = wholeNumber(query.limit, 'limit', ledgerPageSizeMax, ledgerPageSizeMax)
      if (limit === 0) throw new Problem('invalid_request', 'limit: at least 1')
      return deps.audit.events(after, limit)
    },
  )

  app.get(
    '/v1/ledger/verification',
    { ...guard(auditors), schema: { summary: 'Recheck hashes, order, seals and accounting' } },
    async () => deps.audit.verify(),
  )

  app.get(
    '/v1/ledger/export',
    {
      ...guard(auditors),
      schema: {
        summary: 'The whole ledger as ndjson, postings CSV, an hledger journal or a FEC file',
        querystring: {
          type: 'object',
          required: ['format'],
          properties: { format: { type: 'string', enum: [...exportFormats] } },
        },
      },
    },
    async (request, reply) => {
      const format = (request.query as Record<string, unknown>).format
      if (!exportFormats.includes(format as ExportFormat)) {
        throw new Problem('invalid_request', `format: one of ${exportFormats.join(', ')}`, [
          { field: 'format', reason: `expected one of ${exportFormats.join(', ')}` },
        ])
      }
      const chosen = format as ExportFormat
      return reply
        .type(exportMediaTypes[chosen])
        .header('content-disposition', `attachment; filename="${exportFileNames[chosen]}"`)
        .send(Readable.from(deps.audit.exportStream(chosen)))
    },
  )
}
