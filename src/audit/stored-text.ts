import { sha256Hex } from './hash'

/**
 * The text an event's hash was computed over, put together from the JSON texts its data and
 * metadata are stored as, without parsing them. `buildEventToAppend` stores data and metadata
 * with their keys in canonical order, so the text `hashEvent` hashes is the stored texts put
 * together, minus the metadata's `hash` member; a metadata text in any other shape is left to
 * the verifier's full check. Shared by the verifier and the thread that hashes ahead of it.
 */

/** The fields of an event the hashed text is made of. */
export interface StoredTexts {
  readonly eventId: string
  readonly revision: number
  readonly streamId: string
  readonly type: string
  readonly dataText: string
  readonly metadataText: string
}

/** Where the two hashes end in a metadata text of the canonical shape. */
export interface StoredTextShape {
  readonly hashAt: number
  readonly hashEnd: number
  readonly previousEnd: number
}

const quoteCode = 34
const commaCode = 44
const hashMember = '"hash":"'
const previousHashMember = '"previousHash":"'

/** The positions of the hashes, or undefined when the text is not in the canonical shape. */
export const storedTextShape = (metadataText: string): StoredTextShape | undefined => {
  if (!metadataText.startsWith('{"actor":')) return undefined
  const hashAt = metadataText.indexOf(hashMember)
  const hashEnd = hashAt + hashMember.length + 64
  if (hashAt < 0 || metadataText.charCodeAt(hashEnd) !== quoteCode) return undefined
  if (metadataText.charCodeAt(hashEnd + 1) !== commaCode) return undefined
  const previousAt = metadataText.indexOf(previousHashMember, hashEnd)
  const previousEnd = previousAt + previousHashMember.length + 64
  if (previousAt < 0 || metadataText.charCodeAt(previousEnd) !== quoteCode) return undefined
  return { hashAt, hashEnd, previousEnd }
}

/** The SHA-256 of the text the event's hash covers, given the shape of its metadata text. */
export const storedTextDigest = (event: StoredTexts, shape: StoredTextShape): string => {
  const { dataText, metadataText } = event
  const unhashedText = metadataText.slice(0, shape.hashAt) + metadataText.slice(shape.hashEnd + 2)
  return sha256Hex(
    `{"data":${dataText},"eventId":${JSON.stringify(event.eventId)},` +
      `"metadata":${unhashedText},"revision":${JSON.stringify(event.revision)},` +
      `"streamId":${JSON.stringify(event.streamId)},"type":${JSON.stringify(event.type)}}`,
  )
}
