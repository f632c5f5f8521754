import http from 'node:http'
import https from 'node:https'
import { signProcessorBody } from '../http/auth'

/**
 * The simulator's HTTP client: plain HTTP/1.1 to the service's public API, as any caller would.
 * It is Node's `http` on connections kept open rather than `fetch`: in the demo the service and
 * the simulator share one thread, and fetch's streams and objects per request took a quarter of
 * that thread's time, `http` less than a tenth. Requests are retried on what says "try again"
 * (a lost connection, 429, 503, a 409 `concurrency_conflict`), which is safe because every
 * write carries its own id: a retried write that had landed answers 200 with its first answer.
 */
export interface ServiceAccess {
  readonly url: string
  readonly operatorKey: string
  readonly processorKey: string
  readonly processorSecret: string
}

/** An answer: the status, the parsed JSON body (or the text when it is not JSON). */
export interface Answer {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly text: string
}

/** Attempts of one request before its last answer or error is taken as final. */
const attemptsMax = 6

/** First wait before a retry; doubles on every attempt (50, 100, 200... ms). */
const retryDelayMsMin = 50

/** How long one request may take before it counts as lost: a full expiry run is the longest. */
const requestTimeoutMs = 120_000

/** Sockets kept open to the service; more than the runner sends at once are never needed. */
const socketsMax = 256

/** Statuses that mean "not now": retried with the same request. */
const retriedStatuses = new Set([429, 502, 503, 504])

export class LedgerClient {
  private readonly baseUrl: string
  private readonly transport: typeof http | typeof https
  private readonly agent: http.Agent

  constructor(
    readonly access: ServiceAccess,
    /** The clock processor signatures are dated by: the service's, when it has its own. */
    private readonly nowMs: () => number = Date.now,
  ) {
    this.baseUrl = access.url.replace(/\/+$/, '')
    const secure = new URL(this.baseUrl).protocol === 'https:'
    this.transport = secure ? https : http
    const agentOptions = { keepAlive: true, maxSockets: socketsMax }
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions)
  }

  /** Closes the connections kept open, so nothing of the client holds the process. */
  close(): void {
    this.agent.destroy()
  }

  /** A request with the operator's key. */
  operator(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const rawBody = body === undefined ? undefined : JSON.stringify(body)
    return this.send(method, path, rawBody, () => ({
      authorization: `Bearer ${this.access.operatorKey}`,
      ...headers,
    }))
  }

  /**
   * A signed processor delivery. Each attempt is signed afresh, because the ledger refuses a
   * signature it has seen: a copy of a delivery is dated `copy` times `attemptsMax` seconds
   * earlier, and each retry a second earlier again. A 401 is retried too, re-signed: the
   * same body signed at the same second by an earlier run is refused as a replay.
   */
  processor(body: unknown, copy: number): Promise<Answer> {
    const rawBody = JSON.stringify(body)
    const headersFor = (attempt: number) => {
      const timestampS = Math.floor(this.nowMs() / 1000) - copy * attemptsMax - attempt
      return {
        authorization: `Bearer ${this.access.processorKey}`,
        'ledger-signature': signProcessorBody(this.access.processorSecret, rawBody, timestampS),
      }
    }
    return this.send('POST', '/v1/processor/events', rawBody, headersFor, unauthorisedRetried)
  }

  /** A plain GET with any key, for reads the operator's key is not meant for. */
  async get(path: string, key: string = this.access.operatorKey): Promise<Answer> {
    return this.send('GET', path, undefined, () => ({ authorization: `Bearer ${key}` }))
  }

  private async send(
    method: string,
    path: string,
    rawBody: string | undefined,
    headersFor: (attempt: number) => Record<string, string>,
    retried: (answer: Answer) => boolean = isRetried,
  ): Promise<Answer> {
    let lastError: unknown
    let waitMs = 0
    for (let attempt = 0; attempt < attemptsMax; attempt += 1) {
      if (waitMs > 0) await delay(waitMs)
      waitMs = retryDelayMsMin * 2 ** attempt
      try {
        const answer = await this.once(method, path, rawBody, headersFor(attempt))
        if (!retried(answer) || attempt === attemptsMax - 1) return answer
        // A replayed signature is not a busy service: re-signed, it may go again at once.
        if (answer.status === 401) waitMs = 0
      } catch (error) {
        lastError = error
      }
    }
    throw new TransportError(`${method} ${path}: ${describe(lastError)}`)
  }

  private once(
    method: string,
    path: string,
    rawBody: string | undefined,
    headers: Record<string, string>,
  ): Promise<Answer> {
    const bodyHeaders =
      rawBody === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(rawBody) }
    const options = { method, agent: this.agent, headers: { ...headers, ...bodyHeaders } }
    return new Promise<Answer>((resolve, reject) => {
      const request = this.transport.request(`${this.baseUrl}${path}`, options, (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', reject)
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ status: response.statusCode ?? 0, body: parsedBody(text), text })
        })
      })
      request.setTimeout(requestTimeoutMs, () => {
        request.destroy(new Error(`no answer within ${requestTimeoutMs} ms`))
      })
      request.on('error', reject)
      request.end(rawBody)
    })
  }
}

/** The service could not be reached or kept failing: nothing to check, the run stops. */
export class TransportError extends Error {
  override readonly name = 'TransportError'
}

const isRetried = (answer: Answer): boolean =>
  retriedStatuses.has(answer.status) ||
  (answer.status === 409 && answer.body.code === 'concurrency_conflict')

const unauthorisedRetried = (answer: Answer): boolean => isRetried(answer) || answer.status === 401

const parsedBody = (text: string): Record<string, unknown> => {
  if (!text.startsWith('{')) return {}
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return {}
  }
}

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as { cause?: unknown }).cause
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
