import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { measurePurchaseCeiling } from './ceiling'
import { luhnSiretOf } from './ids'
import { builtServiceScript, postJson, startServer, type ChildServer } from './child'
import {
  httpConnections,
  httpCustomerCount,
  httpDurationS,
  httpMerchantCount,
  httpProgrammeBudgetCents,
  httpWarmupS,
  latencyDurationS,
  latencyRatePerSecond,
  latencySettleMs,
  repeatCount,
  scratchDir,
} from './settings'
import { elapsedMs, median, progress, quantile } from './stats'

/**
 * Purchases per second over HTTP against a bare Fastify route, both in child processes, loaded
 * by autocannon from this process with the same settings (-c 50, pipelining 1), with the same
 * bodies: a distinct purchase id every request, a few merchants, one programme whose budget no
 * run exhausts. The ledger answers 201 only once the purchase is durable (group commit, WAL,
 * synchronous FULL), and runs with its production logging (one info line per request).
 *
 * Then the latency of purchases at a fixed rate of 1,000 per second, sent by loadtest, one
 * request every millisecond whether or not the earlier ones were answered. Not by autocannon:
 * its rate caps each connection's requests per second, so it sends the second's requests as
 * fast as they are answered and then waits for the next second, which measures latency at full
 * load, not at a rate.
 */

export interface HttpResults {
  readonly barePerSecond: number
  readonly purchasesPerSecond: number
  /** Median over rounds of ledger/bare, each round's pair measured one after the other. */
  readonly purchaseRatio: number
  readonly purchaseP50Ms: number
  readonly purchaseP99Ms: number
  /**
   * The same runs as the service itself timed them (its `ledger_http_request_duration_seconds`
   * histogram, from the request's arrival to the answer's end): the share of purchases answered
   * within 10 ms, and the histogram bound under which 99 % were. The client's own figures also
   * count the client's waits for a core on this busy two-core machine.
   */
  readonly serverWithin10MsShare: number
  readonly serverP99AtMostMs: number
  /** Requests of the latency runs that failed, by reason, or `none`. */
  readonly latencyFailures: string
  /**
   * Purchases per second that raw inserts of a purchase's rows reach on the same disk
   * (bench/ceiling.ts): the most any durable embedded ledger can answer, and its ratio to the
   * bare route, the most the purchase ratio can be.
   */
  readonly ceilingPerSecond: number
  /** Body size sent, to show both routes got the same. */
  readonly bodyBytes: number
  /**
   * CPU time the server process spent per request during the throughput runs. Unlike the
   * rates, these hardly depend on what else the shared machine runs; set beside the rate, they
   * show how much of the ledger's time is computing and how much is waiting (on fsync).
   */
  readonly bareCpuMsPerRequest: number
  readonly ledgerCpuMsPerRequest: number
}

const operatorKey = 'bench-operator-key-0123456789'
const programmeId = 'P-BENCH'
const authorization = { authorization: `Bearer ${operatorKey}` }

/** Bodies of every request: the counter makes each purchase id new across all runs. */
const purchaseBodies = () => {
  let counter = 0
  return (): string => {
    counter += 1
    const purchaseId = `pb-${String(counter).padStart(8, '0')}`
    return JSON.stringify({
      purchaseId,
      programmeId,
      merchantId: `MB${1 + (counter % httpMerchantCount)}`,
      customerId: `cu-${String(counter % httpCustomerCount).padStart(6, '0')}`,
      amountCents: 1_000 + (counter % 20) * 500,
      paymentReference: `psp-${purchaseId}`,
    })
  }
}

export const benchHttp = async (
  options: { nodeFlags?: readonly string[] } = {},
): Promise<HttpResults> => {
  const nextBody = purchaseBodies()
  const bare = await startServer({ script: 'bench/servers/bare.ts', env: {} })
  const ledger = await startLedger(options.nodeFlags).catch(async (error: unknown) => {
    await bare.stop()
    throw error
  })
  try {
    await load(bare, nextBody, { durationS: httpWarmupS })
    await load(ledger.service, nextBody, { durationS: httpWarmupS })
    const rounds: { bare: LoadResult; ledger: LoadResult }[] = []
    for (let round = 0; round < repeatCount; round += 1) {
      const bareRun = await load(bare, nextBody, { durationS: httpDurationS })
      const ledgerRun = await load(ledger.service, nextBody, { durationS: httpDurationS })
      rounds.push({ bare: bareRun, ledger: ledgerRun })
      progress(
        `http round ${round + 1}: bare ${bareRun.perSecond.toFixed(0)}/s ` +
          `(${bareRun.cpuMsPerRequest.toFixed(3)} ms CPU each), ledger ` +
          `${ledgerRun.perSecond.toFixed(0)}/s ` +
          `(${ledgerRun.cpuMsPerRequest.toFixed(3)} ms CPU each)`,
      )
    }
    const latencies: { p50: number; p99: number; within10Ms: number; p99AtMostMs: number }[] = []
    const failures = new Map<string, number>()
    for (let round = 0; round < repeatCount; round += 1) {
      await sleep(latencySettleMs)
      const before = await purchaseHistogram(ledger.service)
      const fixed = await loadAtFixedRate(ledger.service, nextBody)
      const server = serverLatency(before, await purchaseHistogram(ledger.service))
      latencies.push({ ...fixed, ...server })
      for (const [reason, count] of fixed.failures) {
        failures.set(reason, (failures.get(reason) ?? 0) + count)
      }
      progress(
        `http latency at ${latencyRatePerSecond}/s: p50 ${fixed.p50.toFixed(1)} ms, ` +
          `p99 ${fixed.p99.toFixed(1)} ms; server: ${(server.within10Ms * 100).toFixed(1)} % ` +
          `within 10 ms, p99 at most ${server.p99AtMostMs} ms; ` +
          `failed: ${describeFailures(fixed.failures)}`,
      )
    }
    // Last: its hundreds of megabytes written and deleted keep the disk busy for a while after.
    const ceilingPerSecond = measurePurchaseCeiling()
    progress(`http: raw inserts of a purchase's rows ${ceilingPerSecond.toFixed(0)}/s`)
    return {
      barePerSecond: median(rounds.map((r) => r.bare.perSecond)),
      purchasesPerSecond: median(rounds.map((r) => r.ledger.perSecond)),
      purchaseRatio: median(rounds.map((r) => r.ledger.perSecond / r.bare.perSecond)),
      purchaseP50Ms: median(latencies.map((l) => l.p50)),
      purchaseP99Ms: median(latencies.map((l) => l.p99)),
      serverWithin10MsShare: median(latencies.map((l) => l.within10Ms)),
      serverP99AtMostMs: median(latencies.map((l) => l.p99AtMostMs)),
      latencyFailures: describeFailures(failures),
      ceilingPerSecond,
      bodyBytes: Buffer.byteLength(nextBody()),
      bareCpuMsPerRequest: median(rounds.map((r) => r.bare.cpuMsPerRequest)),
      ledgerCpuMsPerRequest: median(rounds.map((r) => r.ledger.cpuMsPerRequest)),
    }
  } finally {
    await bare.stop()
    await ledger.stop()
  }
}

/** The ledger on a fresh store, with one programme and a few merchants set up through the API. */
const startLedger = async (nodeFlags?: readonly string[]) => {
  mkdirSync(scratchDir, { recursive: true })
  const dir = mkdtempSync(join(scratchDir, 'http-'))
  const keysFile = join(dir, 'keys.json')
  writeFileSync(keysFile, JSON.stringify([{ key: operatorKey, role: 'operator' }]))
  const service: ChildServer = await startServer({
    script: builtServiceScript,
    nodeFlags,
    env: {
      LEDGER_STORE: `sqlite:${join(dir, 'ledger.db')}`,
      LEDGER_API_KEYS_FILE: keysFile,
      LOG_LEVEL: 'info',
    },
  })
  const stop = async (): Promise<void> => {
    await service.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  await setUpLedger(service.url).catch(async (error: unknown) => {
    await stop()
    throw error
  })
  return { service, stop }
}

const setUpLedger = async (url: string): Promise<void> => {
  const today = new Date()
  const validFrom = new Date(today.getTime() - 86_400_000).toISOString().slice(0, 10)
  const validUntil = new Date(today.getTime() + 30 * 86_400_000).toISOString().slice(0, 10)
  await postJson(
    `${url}/v1/programmes`,
    {
      programmeId,
      name: 'Benchmark programme',
      bonusRateBasisPoints: 2_500,
      validFrom,
      validUntil,
      funders: [{ funderId: 'bench', name: 'Bench', contributionCents: httpProgrammeBudgetCents }],
    },
    authorization,
  )
  for (let index = 1; index <= httpMerchantCount; index += 1) {
    const merchantId = `MB${index}`
    await postJson(
      `${url}/v1/merchants`,
      {
        merchantId,
        legalName: `Commerce ${merchantId}`,
        siret: luhnSiretOf(index),
        communeCode: '57630',
        category: 'retail',
        employees: 3,
        salesAreaM2: 120,
        annualTurnoverCents: 40_000_000,
      },
      authorization,
    )
  }
}

/**
 * Latencies of one run at the fixed rate, each from the moment its request is sent to the end of
 * its answer. A request that failed (an answer other than 2xx, a connection error) counts as
 * infinitely slow, and its reason is counted: a service that cannot keep the rate shows it in
 * its p99 and in its failures rather than failing the whole benchmark.
 */
const loadAtFixedRate = async (
  server: ChildServer,
  nextBody: () => string,
): Promise<{ p50: number; p99: number; failures: ReadonlyMap<string, number> }> => {
  // loadtest is an ES module, which this CommonJS benchmark can load only this way.
  const { loadTest } = await import('loadtest')
  const latenciesMs: number[] = []
  const failures = new Map<string, number>()
  const fail = (reason: string) => {
    failures.set(reason, (failures.get(reason) ?? 0) + 1)
    latenciesMs.push(Number.POSITIVE_INFINITY)
  }
  await loadTest({
    url: `${server.url}/v1/purchases`,
    method: 'POST',
    requestsPerSecond: latencyRatePerSecond,
    maxSeconds: latencyDurationS,
    agentKeepAlive: true,
    quiet: true,
    requestGenerator: (_options, params, request, callback) => {
      const body = nextBody()
      const headers = {
        ...authorization,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      }
      const startNs = process.hrtime.bigint()
      const sent = request({ ...params, headers }, callback)
      sent.once('response', (response) =>
        response.once('end', () => {
          if (response.statusCode !== undefined && response.statusCode < 300) {
            latenciesMs.push(elapsedMs(startNs))
          }
        }),
      )
      sent.end(body)
      return sent
    },
    statusCallback: (error, result) => {
      const status = result?.statusCode
      if (error !== null && error !== undefined) fail(String(error))
      else if (status === undefined || status >= 300) fail(`answered ${status ?? 'nothing'}`)
    },
  })
  latenciesMs.sort((a, b) => a - b)
  return { p50: quantile(latenciesMs, 0.5), p99: quantile(latenciesMs, 0.99), failures }
}

const describeFailures = (failures: ReadonlyMap<string, number>): string =>
  failures.size === 0
    ? 'none'
    : [...failures].map(([reason, count]) => `${count} × ${reason}`).join('; ')

/** Cumulative counts of answered purchases (201) by histogram bound in milliseconds. */
type Histogram = ReadonlyMap<number, number>

/** The service's histogram of purchase answers, from its /metrics (Prometheus text). */
const purchaseHistogram = async (server: ChildServer): Promise<Histogram> => {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const counts = new Map<number, number>()
  for (const line of text.split('\n')) {
    if (!line.startsWith('ledger_http_request_duration_seconds_bucket{')) continue
    if (!line.includes('route="/v1/purchases"') || !line.includes('status="201"')) continue
    const bound = /le="([^"]+)"/.exec(line)?.[1] ?? '+Inf'
    const boundMs = bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound) * 1_000
    counts.set(boundMs, Number(line.slice(line.lastIndexOf(' ') + 1)))
  }
  return counts
}

/** Of the purchases answered between two readings: the share within 10 ms and the p99 bound. */
const serverLatency = (
  before: Histogram,
  after: Histogram,
): { within10Ms: number; p99AtMostMs: number } => {
  const bounds = [...after.keys()].sort((a, b) => a - b)
  const countWithin = (bound: number) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0)
  const total = countWithin(Number.POSITIVE_INFINITY)
  if (total === 0) throw new Error('assertion failed: the service counted no purchase answer')
  const p99Bound = bounds.find((bound) => countWithin(bound) >= total * 0.99)
  return { within10Ms: countWithin(10) / total, p99AtMostMs: p99Bound ?? Number.POSITIVE_INFINITY }
}

interface LoadResult {
  readonly perSecond: number
  readonly cpuMsPerRequest: number
}

/** One autocannon run of purchase bodies; fails on any answer other than 2xx. */
const load = async (
  server: ChildServer,
  nextBody: () => string,
  options: { durationS: number },
): Promise<LoadResult> => {
  const url = server.url
  const cpuMsBefore = server.cpuMs()
  const result = await autocannon({
    url,
    connections: httpConnections,
    duration: options.durationS,
    pipelining: 1,
    requests: [
      {
        method: 'POST',
        path: '/v1/purchases',
        headers: { ...authorization, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: nextBody() }),
      },
    ],
  })
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    )
  }
  return {
    cpuMsPerRequest: (server.cpuMs() - cpuMsBefore) / result['2xx'],
    perSecond: result['2xx'] / result.duration,
  }
}
