import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import { walRestartFrames } from '../limits'
import { threadSource } from '../threads'

/**
 * Copies a SQLite file's WAL back into the file on a thread and a connection of its own, instead
 * of SQLite's automatic checkpoint, which runs in the COMMIT that crosses 1,000 pages of WAL and
 * holds that commit up while it writes and syncs them: 10 to 30 ms on this machine's disk, which
 * every append of the group commit waits out. A PASSIVE checkpoint blocks no
 * writer and no reader; frames a reader still uses are copied by a later one. Passive ones never
 * rewind the WAL under a steady load, so a RESTART checkpoint does now and then
 * (`walRestartFrames`).
 *
 * `db` is the connection whose automatic checkpoints it replaces: they are turned off, and back
 * on if the thread fails, so the WAL never grows without bound.
 */
export interface WalCheckpointTask {
  readonly path: string
  /** The owner's setting, which decides whether a checkpoint syncs the file. */
  readonly synchronous: 'FULL' | 'NORMAL'
  /** `walRestartFrames` unless given: tests make it small. */
  readonly restartFrames?: number
}

/** SQLite's own default, restored when the thread fails. */
const automaticCheckpointPages = 1_000

/** A WAL frame: a page of the file (SQLite's default 4,096 bytes) and its header. */
const walFrameBytes = 4_096 + 24

/** What a rewound WAL is cut back to, rather than the largest it ever grew to. */
export const walSizeLimitBytes = (task: WalCheckpointTask): number =>
  (task.restartFrames ?? walRestartFrames) * walFrameBytes

export class WalCheckpointer {
  private readonly worker: Worker
  private readonly exited: Promise<void>

  constructor(db: Database.Database, task: WalCheckpointTask) {
    // The writer rewinds the WAL after a RESTART checkpoint: it is cut back to this size then.
    db.pragma(`journal_size_limit = ${walSizeLimitBytes(task)}`)
    this.worker = new Worker(threadSource('wal-checkpoint-thread', __filename), {
      eval: true,
      workerData: task,
    })
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()))
    // SQLite's own checkpoints go on until the thread has made its first one: loading the
    // thread takes a second or two, in which a busy writer would grow the WAL unchecked.
    this.worker.once('message', () => {
      if (db.open) db.pragma('wal_autocheckpoint = 0')
    })
    this.worker.on('error', () => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${automaticCheckpointPages}`)
    })
    // Checkpoints are upkeep: they never keep a process alive.
    this.worker.unref()
  }

  /** Stops the thread after its current checkpoint, if any. */
  async close(): Promise<void> {
    // Held open until the thread has gone, or the process could end with its file still open.
    this.worker.ref()
    this.worker.postMessage('close')
    await this.exited
  }
}
