import { Worker } from 'node:worker_threads'
import { threadSource } from '../threads'

/**
 * A projection replayed on a thread of its own during a rebuild (see `rebuildProjections`). The
 * thread opens the store's file and the projections file itself, reads only the events its
 * projection reads, and commits its documents and checkpoint like any rebuild: nothing but the
 * task and the outcome crosses between the threads.
 */
export interface RebuildThreadTask {
  readonly storePath: string
  readonly projectionsPath: string
  /** A projection of `allProjections`, by name. */
  readonly name: string
  /** The head the rebuild read to: the checkpoint the projection ends at. */
  readonly head: number
}

/** The thread's one message: done, or the message of what failed. */
export type RebuildThreadReply = { readonly done: true } | { readonly failed: string }

/** Resolves once the thread has committed its projection up to the head; rejects if it failed. */
export const rebuildOnThread = (task: RebuildThreadTask): Promise<void> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(threadSource('rebuild-thread', __filename), {
      eval: true,
      workerData: task,
    })
    let reply: RebuildThreadReply | undefined
    worker.on('message', (message: RebuildThreadReply) => {
      reply = message
    })
    worker.on('error', reject)
    worker.on('exit', (code) => {
      if (reply !== undefined && 'done' in reply) resolve()
      else if (reply !== undefined) reject(new Error(reply.failed))
      else reject(new Error(`the rebuild thread of ${task.name} stopped with code ${code}`))
    })
  })
