import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { sqliteBusyTimeoutMs, walCheckpointIntervalMs, walRestartFrames } from '../limits'
import { walSizeLimitBytes, type WalCheckpointTask } from './wal-checkpointer'

/**
 * A checkpoint thread (see `WalCheckpointer`): every `walCheckpointIntervalMs`, a PASSIVE
 * checkpoint on a connection of its own, and a RESTART one once the WAL reaches
 * `walRestartFrames`. It ends when told to, or with an error if the file cannot be opened or
 * checkpointed.
 */

const port = parentPort
if (port === null) throw new Error('assertion failed: a checkpointer runs in a worker thread')

const task = workerData as WalCheckpointTask
const restartFrames = task.restartFrames ?? walRestartFrames
const db = new Database(task.path, { fileMustExist: true, timeout: sqliteBusyTimeoutMs })
db.pragma(`synchronous = ${task.synchronous}`)
db.pragma(`journal_size_limit = ${walSizeLimitBytes(task)}`)

interface CheckpointResult {
  readonly busy: number
  /** Frames in the WAL. */
  readonly log: number
  readonly checkpointed: number
}

const checkpoint = (): void => {
  const [passive] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[]
  if (passive !== undefined && passive.log >= restartFrames) db.pragma('wal_checkpoint(RESTART)')
}
checkpoint()
// The owner turns SQLite's own checkpoints off once this one has made its first.
port.postMessage('started')
const timer = setInterval(checkpoint, walCheckpointIntervalMs)

port.on('message', () => {
  clearInterval(timer)
  db.close()
  port.close()
})
