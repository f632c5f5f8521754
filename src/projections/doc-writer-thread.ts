import { parentPort, workerData } from 'node:worker_threads'
import { ProjectionDocStore } from './doc-store'
import type { DocWriterData, DocWriterReply, DocWriterRequest } from './doc-writer'

/**
 * The doc writer thread (see `DocWriterThread`): commits each batch of document texts and
 * checkpoints it is sent, in order, and answers once it has. It ends when told to close.
 */

const port = parentPort
if (port === null) throw new Error('assertion failed: the doc writer runs in a worker thread')

const store = new ProjectionDocStore((workerData as DocWriterData).path)

port.on('message', (request: DocWriterRequest) => {
  if (request.kind === 'close') {
    store.close()
    port.close()
    return
  }
  let reply: DocWriterReply
  try {
    store.saveTexts(request.batch, new Map(request.checkpoints))
    reply = { written: true }
  } catch (error) {
    reply = { failed: (error as Error).message }
  }
  port.postMessage(reply)
})
