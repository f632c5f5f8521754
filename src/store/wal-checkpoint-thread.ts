import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { sqliteBusyTimeoutMs, walCheckpointIntervalMs } from '../limits'
import type { WalCheckpointTask } from './wal-checkpointer'

/**
 * A checkpoint thread (see `WalCheckpointer`): every `walCheckpointIntervalMs`, a PASSIVE
 * checkpoint on a connection of its own. It ends when told to, or with an error if the file
 * cannot be opened or checkpointed.
 */

const port = parentPort
if (port === null) throw new Error('assertion failed: a checkpointer runs in a worker thread')

const task = workerData as WalCheckpointTask
const db = new Database(task.path, { fileMustExist: true, timeout: sqliteBusyTimeoutMs })
db.pragma(`synchronous = ${task.synchronous}`)
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), walCheckpointIntervalMs)

port.on('message', () => {
  clearInterval(timer)
  db.close()
  port.close()
})
