import { createHmac } from 'node:crypto'

/**
 * Voucher ids are what a customer shows at the till, so nothing a caller knows may let it guess
 * one. They are a keyed hash (HMAC-SHA256) of the purchase id: a retried purchase gets the same
 * ids back, and without the secret no id can be derived from a purchase id.
 */
export interface VoucherIds {
  readonly voucherId: string
  readonly bonusVoucherId: string
}

/** 20 Crockford base32 characters carry 100 bits: far beyond guessing at any request rate. */
const voucherIdChars = 20
const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

const base32 = (bytes: Buffer, length: number): string => {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5 && out.length < length) {
      out += crockford[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
    buffer &= 0xff
  }
  return out
}

const keyedId = (secret: string, purpose: string, purchaseId: string): string =>
  base32(createHmac('sha256', secret).update(`${purpose}\n${purchaseId}`).digest(), voucherIdChars)

export const voucherIdsFor = (secret: string, purchaseId: string): VoucherIds => ({
  voucherId: `V${keyedId(secret, 'purchased', purchaseId)}`,
  bonusVoucherId: `B${keyedId(secret, 'bonus', purchaseId)}`,
})
