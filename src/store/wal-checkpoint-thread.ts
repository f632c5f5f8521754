import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { sqliteBusyTimeoutMs, walCheckpointIntervalMs, walRestartFrames } from '../limits'
import type { WalCheckpointTask } from './wal-checkpointer'

/**
 * A checkpoint thread (see `WalCheckpointer`): every `walCheckpointIntervalMs`, a PASSIVE
 * checkpoint on a connection of its own, and a RESTART one once the WAL reaches
 * `walRestartFrames`. It ends when told to, or with an error if the file cannot be opened or
 * checkpointed.
 */

/** A WAL frame: a page of the store's file (SQLite's default 4,096 bytes) and its header. */
const walFrameBytes = 4_096 + 24

const port = parentPort
if (port === null) throw new Error('assertion failed: a checkpointer runs in a worker thread')

const task = workerData as WalCheckpointTask
const restartFrames = task.restartFrames ?? walRestartFrames
const db = new Database(task.path, { fileMustExist: true, timeout: sqliteBusyTimeoutMs })
db.pragma(`synchronous = ${task.synchronous}`)
// A rewound WAL is cut back to this size, rather than keeping the largest it ever grew to.
db.pragma(`journal_size_limit = ${restartFrames * walFrameBytes}`)

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
const timer = setInterval(checkpoint, walCheckpointIntervalMs)

port.on('message', () => {
  clearInterval(timer)
  db.close()
  port.close()
})
