import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { Id } from '../../domain/ids'
import { signatureReplayEntriesMax, signatureToleranceMs } from '../limits'
import { fieldErrorsOf } from './validation'

/**
 * Who may call what. API keys and their roles come from a JSON file; a key may be given as its
 * SHA-256 so the file need not hold secrets. Keys are compared by their hash, so nothing about a
 * key leaks through timing.
 */
export const Role = t.keyof({
  operator: null,
  merchant: null,
  processor: null,
  auditor: null,
  dashboard: null,
})
export type Role = t.TypeOf<typeof Role>

const KeyEntry = t.intersection([
  t.type({ role: Role }),
  t.partial({ key: t.string, sha256: t.string, merchantId: Id }),
])
const KeyFile = t.array(KeyEntry)

export interface Principal {
  readonly role: Role
  readonly merchantId: string | undefined
  /** A short, non-secret handle of the key for logs, limits and idempotency scopes. */
  readonly keyId: string
}

export type KeyRing = ReadonlyMap<string, Principal>

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Parses the key file's content, naming every bad entry. */
export const parseKeyRing = (json: string): E.Either<string, KeyRing> => {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch (error) {
    return E.left(`not JSON: ${(error as Error).message}`)
  }
  const decoded = KeyFile.decode(raw)
  if (E.isLeft(decoded)) {
    const fields = fieldErrorsOf(decoded.left).map((e) => `${e.field}: ${e.reason}`)
    return E.left(`expected [{key or sha256, role, merchantId}]: ${fields.join('; ')}`)
  }
  const ring = new Map<string, Principal>()
  for (const [index, entry] of decoded.right.entries()) {
    const hash =
      entry.sha256?.toLowerCase() ?? (entry.key === undefined ? '' : sha256Hex(entry.key))
    if (!/^[0-9a-f]{64}$/.test(hash)) return E.left(`entry ${index}: needs a key or a sha256`)
    if (entry.role === 'merchant' && entry.merchantId === undefined) {
      return E.left(`entry ${index}: a merchant key needs its merchantId`)
    }
    ring.set(hash, { role: entry.role, merchantId: entry.merchantId, keyId: hash.slice(0, 12) })
  }
  return E.right(ring)
}

export const loadKeyRing = (path: string | undefined): E.Either<string, KeyRing> => {
  if (path === undefined) return E.right(new Map())
  try {
    return parseKeyRing(readFileSync(path, 'utf8'))
  } catch (error) {
    return E.left(`cannot read ${path}: ${(error as Error).message}`)
  }
}

/** The principal of an `Authorization: Bearer <key>` header, if the key is known. */
export const principalOf = (ring: KeyRing, header: string | undefined): Principal | undefined => {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (match === null || match[1] === undefined) return undefined
  return ring.get(sha256Hex(match[1]))
}

/**
 * Checks a processor's `Ledger-Signature: t=<unix seconds>,v1=<hex>`: HMAC-SHA256 keyed with
 * the processor secret over `<t>.<raw body>`. Too old, reused, or wrong is refused; a reuse is
 * remembered only for as long as the signature would be fresh anyway.
 */
export class SignatureVerifier {
  private readonly seen = new Map<string, number>()

  constructor(private readonly secret: string | undefined) {}

  verify(header: string | undefined, rawBody: string, nowMs: number): string | undefined {
    if (this.secret === undefined) return 'processor signatures are not configured'
    const parts = Object.fromEntries(
      (header ?? '').split(',').map((part) => part.trim().split('=', 2) as [string, string]),
    )
    const timestampS = Number(parts.t)
    const given = parts.v1 ?? ''
    if (!Number.isSafeInteger(timestampS) || !/^[0-9a-f]{64}$/i.test(given)) {
      return 'expected Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>'
    }
    if (Math.abs(nowMs - timestampS * 1000) > signatureToleranceMs) return 'signature too old'

    const expected = createHmac('sha256', this.secret).update(`${timestampS}.${rawBody}`).digest()
    const givenBytes = Buffer.from(given, 'hex')
    if (givenBytes.length !== expected.length || !timingSafeEqual(givenBytes, expected)) {
      return 'signature does not match'
    }
    this.forgetExpired(nowMs)
    if (this.seen.has(given.toLowerCase())) return 'signature already used'
    this.seen.set(given.toLowerCase(), timestampS * 1000 + signatureToleranceMs)
    return undefined
  }

  private forgetExpired(nowMs: number): void {
    if (this.seen.size < signatureReplayEntriesMax) {
      for (const [signature, expiresMs] of this.seen) {
        if (expiresMs >= nowMs) break
        this.seen.delete(signature)
      }
      return
    }
    for (const [signature, expiresMs] of this.seen)
      if (expiresMs < nowMs) this.seen.delete(signature)
  }
}

/** Signs like a processor does; for the simulator and tests. */
export const signProcessorBody = (secret: string, rawBody: string, timestampS: number): string =>
  `t=${timestampS},v1=${hmacHex(secret, `${timestampS}.${rawBody}`)}`

const hmacHex = (secret: string, text: string): string =>
  createHmac('sha256', secret).update(text).digest('hex')
