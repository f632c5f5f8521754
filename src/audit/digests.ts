import { Worker } from 'node:worker_threads'
import { threadSource } from '../threads'
import type { StoredEvent } from './source'

/**
 * Hashing each event's stored text is about a quarter of a verification: a thread of its own
 * does it for the next page while the verifier reads and checks the current one, on the second
 * core. The thread only computes digests; every comparison stays with the verifier, which
 * computes a digest itself whenever the thread has none to give (pages without stored texts, a
 * thread that failed). A page is sent as columns of strings, which cross threads as copies of
 * their bytes.
 */

export interface DigestRequest {
  readonly id: number
  readonly eventIds: readonly string[]
  readonly revisions: readonly number[]
  readonly streamIds: readonly string[]
  readonly types: readonly string[]
  readonly dataTexts: readonly string[]
  readonly metadataTexts: readonly string[]
}

export interface DigestReply {
  readonly id: number
  /** One per event of the request: the digest, or null where the text is not canonical. */
  readonly digests: readonly (string | null)[]
}

/** Digests of one page, in its order; undefined when the verifier must compute them itself. */
export type PageDigests = readonly (string | null)[] | undefined

export class DigestThread {
  private readonly worker: Worker
  private readonly waiting = new Map<number, (digests: PageDigests) => void>()
  private nextId = 1
  private failed = false

  constructor() {
    this.worker = new Worker(threadSource('digest-thread', __filename), { eval: true })
    this.worker.on('message', (reply: DigestReply) => this.settle(reply.id, reply.digests))
    this.worker.on('error', () => this.fail())
    this.worker.on('exit', () => this.fail())
  }

  /** Starts hashing a page; resolves with its digests, or undefined (never rejects). */
  digestsOf(page: readonly StoredEvent[]): Promise<PageDigests> {
    if (this.failed || page.length === 0) return Promise.resolve(undefined)
    const request = columnsOf(this.nextId, page)
    if (request === undefined) return Promise.resolve(undefined)
    this.nextId += 1
    return new Promise((resolve) => {
      this.waiting.set(request.id, resolve)
      this.worker.postMessage(request)
    })
  }

  async close(): Promise<void> {
    this.failed = true
    await this.worker.terminate()
  }

  private settle(id: number, digests: PageDigests): void {
    const resolve = this.waiting.get(id)
    this.waiting.delete(id)
    resolve?.(digests)
  }

  private fail(): void {
    this.failed = true
    for (const id of [...this.waiting.keys()]) this.settle(id, undefined)
  }
}

/** The page as columns, or undefined when an event lacks its stored texts. */
const columnsOf = (id: number, page: readonly StoredEvent[]): DigestRequest | undefined => {
  const eventIds: string[] = []
  const revisions: number[] = []
  const streamIds: string[] = []
  const types: string[] = []
  const dataTexts: string[] = []
  const metadataTexts: string[] = []
  for (const event of page) {
    if (event.dataText === undefined || event.metadataText === undefined) return undefined
    eventIds.push(event.eventId)
    revisions.push(event.revision)
    streamIds.push(event.streamId)
    types.push(event.type)
    dataTexts.push(event.dataText)
    metadataTexts.push(event.metadataText)
  }
  return { id, eventIds, revisions, streamIds, types, dataTexts, metadataTexts }
}
