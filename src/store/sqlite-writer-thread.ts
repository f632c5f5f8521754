import { parentPort, workerData } from 'node:worker_threads'
import {
  toWireOutcome,
  type WriterReply,
  type WriterRequest,
  type WriterThreadData,
} from './sqlite-committer'
import { openDatabase, SqliteWriter } from './sqlite-writer'
import { WalCheckpointer } from './wal-checkpointer'

/**
 * The writer thread of the embedded store (see `ThreadCommitter`): a connection of its own to
 * the file, committing the batches the store's thread sends, in the order sent, and answering
 * each once its commit returned, that is once it is durable. It ends when asked to close.
 */

const port = parentPort
if (port === null) throw new Error('assertion failed: the store writer runs in a worker thread')

// The store's thread created the file: a file gone since then is an error here, not a new
// empty log that this store's reads would never see.
const { path } = workerData as WriterThreadData
const db = openDatabase(path, { fileMustExist: true })
const checkpointer = new WalCheckpointer(db, { path, synchronous: 'FULL' })
const writer = new SqliteWriter(db)

port.on('message', (request: WriterRequest) => {
  if (request.kind === 'close') {
    void checkpointer.close().then(() => {
      db.close()
      port.close()
    })
    return
  }
  let reply: WriterReply
  try {
    reply = { kind: 'committed', outcomes: writer.commit(request.batch).map(toWireOutcome) }
  } catch (error) {
    reply = { kind: 'failed', message: (error as Error).message }
  }
  port.postMessage(reply)
})
