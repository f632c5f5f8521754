import * as E from 'fp-ts/Either'
import { PathReporter } from 'io-ts/PathReporter'
import { eventCodecs, isEventType, type LedgerEvent } from './events'

/**
 * Decodes a stored or about-to-be-stored event with the codec of its type. The ledger decodes
 * every event when it writes it and again when it reads it back, so an event that no longer
 * matches its codec (a bug, or an altered store) is refused instead of trusted.
 */
export const decodeLedgerEvent = (type: string, data: unknown): E.Either<string, LedgerEvent> => {
  if (!isEventType(type)) return E.left(`unknown event type ${type}`)
  const codec = eventCodecs[type] as unknown as import('io-ts').Mixed
  const decoded = codec.decode(data)
  if (E.isLeft(decoded)) {
    return E.left(`${type} does not match its codec: ${PathReporter.report(decoded).join('; ')}`)
  }
  return E.right({ type, data: decoded.right } as LedgerEvent)
}
