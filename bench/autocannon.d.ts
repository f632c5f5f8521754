/**
 * The part of autocannon's programmatic API the benchmark uses; the package ships no types.
 */
declare module 'autocannon' {
  interface RawRequest {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
  }

  interface Options {
    url: string
    connections?: number
    duration?: number
    pipelining?: number
    overallRate?: number
    requests?: readonly (RawRequest & { setupRequest?: (request: RawRequest) => RawRequest })[]
  }

  interface Histogram {
    average: number
    mean: number
    p50: number
    p90: number
    p97_5: number
    p99: number
    max: number
    total: number
  }

  interface Result {
    requests: Histogram
    latency: Histogram
    throughput: Histogram
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
  }

  function autocannon(options: Options): Promise<Result>
  export = autocannon
}
