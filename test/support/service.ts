import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { assembleService, type LedgerService } from '../../src/app/assemble'
import { loadConfig } from '../../src/config'
import { signProcessorBody } from '../../src/http/auth'

/**
 * A ledger service on a fresh temporary embedded store, with one API key per role, for route
 * and end-to-end tests. The clock can be moved, so tests can be after the end of a programme.
 */
export const keys = {
  operator: 'test-operator-key',
  processor: 'test-processor-key',
  auditor: 'test-auditor-key',
  dashboard: 'test-dashboard-key',
  merchantM: 'test-merchant-m-key',
} as const

export const processorSecret = 'test-processor-secret-0123456789'

export interface TestService extends LedgerService {
  readonly dir: string
  readonly clock: { nowMs: number }
  stopAndClean(): Promise<void>
}

export const startTestService = async (
  /** `dir`: a directory of an earlier test service, to start again on its store. */
  options: { nowMs?: number; env?: Record<string, string>; dir?: string } = {},
): Promise<TestService> => {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ledger-test-'))
  const keysFile = join(dir, 'keys.json')
  writeFileSync(
    keysFile,
    JSON.stringify([
      { key: keys.operator, role: 'operator' },
      { key: keys.processor, role: 'processor' },
      { key: keys.auditor, role: 'auditor' },
      { key: keys.dashboard, role: 'dashboard' },
      { key: keys.merchantM, role: 'merchant', merchantId: 'M' },
    ]),
  )
  const config = loadConfig({
    LEDGER_STORE: `sqlite:${join(dir, 'ledger.db')}`,
    LEDGER_API_KEYS_FILE: keysFile,
    LEDGER_PROCESSOR_SECRET: processorSecret,
    LOG_LEVEL: 'silent',
    ...options.env,
  })
  const clock = { nowMs: options.nowMs ?? Date.parse('2026-11-15T10:00:00Z') }
  const service = await assembleService(config, pino({ level: 'silent' }), {
    clockMs: () => clock.nowMs,
  })
  return {
    ...service,
    dir,
    clock,
    stopAndClean: async () => {
      await service.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` })

/** Headers of a processor delivery signed at `timestampS`. */
export const processorHeaders = (rawBody: string, timestampS: number) => ({
  ...bearer(keys.processor),
  'content-type': 'application/json',
  'ledger-signature': signProcessorBody(processorSecret, rawBody, timestampS),
})

export const programmeBody = (overrides: Record<string, unknown> = {}) => ({
  programmeId: 'P2026',
  name: 'Moselle Sud 2026',
  bonusRateBasisPoints: 2500,
  validFrom: '2026-11-01',
  validUntil: '2026-12-31',
  funders: [
    { funderId: 'ccsms', name: 'CC Sarrebourg Moselle Sud', contributionCents: 1_000_000 },
    { funderId: 'ccs', name: 'CC du Saulnois', contributionCents: 500_000 },
  ],
  ...overrides,
})

/** A merchant body in Sarrebourg (INSEE 57630), eligible; SIRETs pass the Luhn check. */
export const merchantBody = (merchantId: string, overrides: Record<string, unknown> = {}) => ({
  merchantId,
  legalName: `Commerce ${merchantId}`,
  siret: luhnSiret(merchantId),
  communeCode: '57630',
  category: 'retail',
  employees: 3,
  salesAreaM2: 120,
  annualTurnoverCents: 40_000_000,
  ...overrides,
})

/** A 14-digit SIRET derived from a seed that passes the Luhn check. */
export const luhnSiret = (seed: string): string => {
  let digits = ''
  for (const char of seed.padEnd(13, '7')) digits += String(char.charCodeAt(0) % 10)
  const body = digits.slice(0, 13)
  for (let check = 0; check <= 9; check += 1) {
    const candidate = `${body}${check}`
    if (luhnValid(candidate)) return candidate
  }
  throw new Error('unreachable')
}

const luhnValid = (digits: string): boolean => {
  let sum = 0
  for (let index = 0; index < digits.length; index += 1) {
    let digit = Number(digits[digits.length - 1 - index])
    if (index % 2 === 1) {
      digit *= 2
      if (digit > 9) digit -= 9
    }
    sum += digit
  }
  return sum % 10 === 0
}

/** A port nobody listens on, for a service started in a child process. */
export const freePort = async (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      )
    })
  })
