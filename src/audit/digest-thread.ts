import { parentPort } from 'node:worker_threads'
import type { DigestReply, DigestRequest } from './digests'
import { storedTextDigest, storedTextShape } from './stored-text'

/**
 * The digest thread of a verification (see `DigestThread`): for each event of a page, the
 * SHA-256 of the text its hash covers, or null where the stored text is not in the canonical
 * shape. It computes and checks nothing else; the verifier compares.
 */

const port = parentPort
if (port === null) throw new Error('assertion failed: the digest thread runs in a worker thread')

port.on('message', (request: DigestRequest) => {
  const digests = request.metadataTexts.map((metadataText, index) => {
    const shape = storedTextShape(metadataText)
    if (shape === undefined) return null
    return storedTextDigest(
      {
        eventId: request.eventIds[index] as string,
        revision: request.revisions[index] as number,
        streamId: request.streamIds[index] as string,
        type: request.types[index] as string,
        dataText: request.dataTexts[index] as string,
        metadataText,
      },
      shape,
    )
  })
  port.postMessage({ id: request.id, digests } satisfies DigestReply)
})
