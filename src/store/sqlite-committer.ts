import { Worker } from 'node:worker_threads'
import { threadSource } from '../threads'
import { ConcurrencyConflict, type AppendResult, type ExpectedRevision } from './port'
import type { Outcome, RowAppend, SqliteWriter, WrittenResult } from './sqlite-writer'

/**
 * Where the embedded store's group commits run: on the writer thread for a file, or inline for
 * an in-memory store. The store sends one batch at a time and the next only once the previous
 * one is answered, which keeps one process's appends in the order they were made.
 */
export interface Committer {
  /** Each call's outcome; rejects when the batch as a whole failed and none of it was written. */
  commit(batch: readonly (readonly RowAppend[])[]): Promise<Outcome[]>
  close(): Promise<void>
}

/** The writer on the caller's thread: an in-memory file is seen by one connection only. */
export class InlineCommitter implements Committer {
  constructor(private readonly writer: SqliteWriter) {}

  commit(batch: readonly (readonly RowAppend[])[]): Promise<Outcome[]> {
    try {
      return Promise.resolve(this.writer.commit(batch))
    } catch (error) {
      return Promise.reject(error as Error)
    }
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

/** What the store's thread sends the writer thread. */
export type WriterRequest =
  | { readonly kind: 'commit'; readonly batch: readonly (readonly RowAppend[])[] }
  | { readonly kind: 'close' }

/** A conflict crosses threads as its fields: errors lose their class in a message. */
export type WireOutcome =
  | { readonly result: AppendResult | WrittenResult }
  | {
      readonly conflict: {
        readonly streamId: string
        readonly expectedRevision: ExpectedRevision
        readonly actualRevision: number | 'no_stream'
      }
    }

/** What the writer thread answers, one reply per request. */
export type WriterReply =
  | { readonly kind: 'committed'; readonly outcomes: readonly WireOutcome[] }
  | { readonly kind: 'failed'; readonly message: string }

export interface WriterThreadData {
  readonly path: string
}

export const toWireOutcome = (outcome: Outcome): WireOutcome =>
  outcome instanceof ConcurrencyConflict
    ? {
        conflict: {
          streamId: outcome.streamId,
          expectedRevision: outcome.expectedRevision,
          actualRevision: outcome.actualRevision,
        },
      }
    : { result: outcome }

const fromWireOutcome = (outcome: WireOutcome): Outcome =>
  'result' in outcome
    ? outcome.result
    : new ConcurrencyConflict(
        outcome.conflict.streamId,
        outcome.conflict.expectedRevision,
        outcome.conflict.actualRevision,
      )

interface InFlight {
  readonly resolve: (outcomes: Outcome[]) => void
  readonly reject: (error: Error) => void
}

/**
 * The writer on a thread of its own, started on the first commit, so that a store opened only
 * to read (the audit, the projections' rebuild) never starts one. The thread holds the process
 * open only while a commit is in flight. If it dies, the batch in flight fails (its outcome is
 * unknown: the caller retries, and the store recognises a retried append) and the next commit
 * starts a new thread.
 */
export class ThreadCommitter implements Committer {
  private worker: Worker | undefined
  private inFlight: InFlight | undefined

  constructor(private readonly path: string) {}

  commit(batch: readonly (readonly RowAppend[])[]): Promise<Outcome[]> {
    if (this.inFlight !== undefined) {
      return Promise.reject(new Error('assertion failed: one batch at a time'))
    }
    const worker = (this.worker ??= this.start())
    return new Promise<Outcome[]>((resolve, reject) => {
      this.inFlight = { resolve, reject }
      worker.ref()
      worker.postMessage({ kind: 'commit', batch } satisfies WriterRequest)
    })
  }

  async close(): Promise<void> {
    const worker = this.worker
    if (worker === undefined) return
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    worker.ref()
    worker.postMessage({ kind: 'close' } satisfies WriterRequest)
    await exited
  }

  private start(): Worker {
    const worker = new Worker(threadSource('sqlite-writer-thread', __filename), {
      eval: true,
      workerData: { path: this.path } satisfies WriterThreadData,
    })
    // A reply is taken only from the thread that was sent the batch: a thread that died and
    // was replaced may still deliver a last message, which must not settle the next batch.
    worker.on('message', (reply: WriterReply) => {
      if (this.worker === worker) this.settle(worker, reply)
    })
    worker.on('error', (error) => this.fail(worker, error))
    worker.on('exit', (code) => this.fail(worker, new Error(`writer thread exited (${code})`)))
    worker.unref()
    return worker
  }

  /**
   * A failed batch ends its thread, so the next batch opens the file afresh: a connection that
   * SQLite opened read-only, or that lost its file, never recovers by itself.
   */
  private settle(worker: Worker, reply: WriterReply): void {
    const inFlight = this.inFlight
    this.inFlight = undefined
    worker.unref()
    if (reply.kind === 'failed') {
      this.worker = undefined
      void worker.terminate()
    }
    if (inFlight === undefined) return
    if (reply.kind === 'committed') inFlight.resolve(reply.outcomes.map(fromWireOutcome))
    else inFlight.reject(new Error(reply.message))
  }

  private fail(worker: Worker, error: Error): void {
    if (this.worker !== worker) return
    this.worker = undefined
    const inFlight = this.inFlight
    this.inFlight = undefined
    inFlight?.reject(error)
  }
}
