import { createHash } from 'node:crypto'

/**
 * UUID v5 (RFC 9562, section 5.5) computed with node:crypto over namespace bytes parsed once.
 * The `uuid` package's `v5` parses its namespace string and converts the name again on every
 * call, which was 2.4 % of a purchase's CPU at four event ids per purchase; the ids are the
 * same, which test/app/event-ids.unit.test.ts checks against the package.
 */

/** The 16 bytes of a UUID written in its canonical 36-character form. */
const uuidBytesOf = (uuid: string): Buffer => {
  const hex = uuid.replace(/-/g, '')
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`)
  return Buffer.from(hex, 'hex')
}

/** The canonical form of 16 bytes: lowercase hex in groups of 8, 4, 4, 4 and 12 digits. */
const uuidTextOf = (bytes: Buffer): string => {
  const hex = bytes.toString('hex')
  return (
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-` +
    `${hex.slice(16, 20)}-${hex.slice(20, 32)}`
  )
}

/** A function from names to their UUID v5 in `namespace`, the namespace parsed here once. */
export const uuidV5In = (namespace: string): ((name: string) => string) => {
  const namespaceBytes = uuidBytesOf(namespace)
  return (name) => {
    const digest = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest()
    const bytes = digest.subarray(0, 16)
    // Version 5 in the high nibble of byte 6, the RFC variant (binary 10) in byte 8.
    bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50
    bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
    return uuidTextOf(bytes)
  }
}
