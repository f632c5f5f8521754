/**
 * The part of loadtest's programmatic API the benchmark uses, with the request generator and
 * status callback as loadtest 8 calls them (its own declarations predate both).
 */
declare module 'loadtest' {
  import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http'

  interface LoadTestOptions {
    url: string
    method?: string
    requestsPerSecond?: number
    maxSeconds?: number
    agentKeepAlive?: boolean
    quiet?: boolean
    headers?: Record<string, string>
    requestGenerator?: (
      options: unknown,
      params: RequestOptions,
      request: (
        params: RequestOptions,
        callback: (response: IncomingMessage) => void,
      ) => ClientRequest,
      callback: (response: IncomingMessage) => void,
    ) => ClientRequest
    statusCallback?: (error: unknown, result: { statusCode?: number } | undefined) => void
  }

  interface LoadTestResult {
    readonly totalRequests: number
    readonly totalErrors: number
    readonly effectiveRps: number
  }

  export function loadTest(options: LoadTestOptions): Promise<LoadTestResult>
}
