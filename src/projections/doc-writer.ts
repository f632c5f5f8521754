import { Worker } from 'node:worker_threads'
import { threadSource } from '../threads'
import { docTextsOf, type Checkpoint, type DocTexts, type ProjectionDocStore } from './doc-store'
import type { CommitBatch } from './engine'

/**
 * The live runner's commits, written on a thread of their own. Writing a commit's documents
 * (their pages, the WAL, now and then a checkpoint) took 5 to 30 ms, 17 times a second at a
 * thousand purchases a second: stalls of the thread that serves requests. Here that thread only
 * writes the documents as JSON and sends the texts; the writer thread upserts them and the
 * checkpoints in one transaction on its own connection, and answers once it has committed.
 */

/** Where the live runner's commits are written. */
export interface DocWriter {
  /** Writes a commit's documents and checkpoints; resolves once they are committed. */
  write(batch: CommitBatch): Promise<void>
  close(): Promise<void>
}

/**
 * The writer for a projections file, or for `:memory:`, which only the runner's own connection
 * can see: there the commits stay on its thread.
 */
export const docWriterFor = (path: string, store: ProjectionDocStore): DocWriter =>
  path === ':memory:' ? new InlineDocWriter(store) : new DocWriterThread(path)

class InlineDocWriter implements DocWriter {
  constructor(private readonly store: ProjectionDocStore) {}

  write(batch: CommitBatch): Promise<void> {
    try {
      this.store.save(batch.changes, batch.checkpoints)
      return Promise.resolve()
    } catch (error) {
      return Promise.reject(error as Error)
    }
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

/** What the runner's thread sends the writer thread. */
export type DocWriterRequest =
  | {
      readonly kind: 'write'
      readonly batch: readonly DocTexts[]
      readonly checkpoints: readonly (readonly [string, Checkpoint])[]
    }
  | { readonly kind: 'close' }

/** The writer thread's answer to a write: done, or the message of what failed. */
export type DocWriterReply = { readonly written: true } | { readonly failed: string }

export interface DocWriterData {
  readonly path: string
}

interface InFlight {
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

export class DocWriterThread implements DocWriter {
  private readonly worker: Worker
  private readonly exited: Promise<void>
  private inFlight: InFlight | undefined
  /** Set once the thread is gone: every later write fails with it. */
  private ended: Error | undefined

  constructor(path: string) {
    this.worker = new Worker(threadSource('doc-writer-thread', __filename), {
      eval: true,
      workerData: { path } satisfies DocWriterData,
    })
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()))
    this.worker.on('message', (reply: DocWriterReply) => this.settle(reply))
    this.worker.on('error', (error) => this.end(error))
    this.worker.on('exit', (code) => this.end(new Error(`doc writer thread exited (${code})`)))
    this.worker.unref()
  }

  write(batch: CommitBatch): Promise<void> {
    if (this.ended !== undefined) return Promise.reject(this.ended)
    if (this.inFlight !== undefined) {
      return Promise.reject(new Error('assertion failed: one doc write at a time'))
    }
    return new Promise((resolve, reject) => {
      const request: DocWriterRequest = {
        kind: 'write',
        batch: docTextsOf(batch.changes),
        checkpoints: [...batch.checkpoints],
      }
      this.inFlight = { resolve, reject }
      // Held open while a write is in flight, so that a process ends only with it committed.
      this.worker.ref()
      this.worker.postMessage(request)
    })
  }

  /** Ends the thread once the write in flight, if any, is answered. */
  async close(): Promise<void> {
    if (this.ended === undefined) {
      this.worker.ref()
      this.worker.postMessage({ kind: 'close' } satisfies DocWriterRequest)
    }
    await this.exited
  }

  private settle(reply: DocWriterReply): void {
    const inFlight = this.inFlight
    this.inFlight = undefined
    this.worker.unref()
    if ('written' in reply) inFlight?.resolve()
    else inFlight?.reject(new Error(reply.failed))
  }

  private end(error: Error): void {
    this.ended ??= error
    const inFlight = this.inFlight
    this.inFlight = undefined
    inFlight?.reject(error)
  }
}
