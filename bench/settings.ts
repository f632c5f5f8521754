import { join } from 'node:path'

/**
 * Every tunable of the benchmark, each with the reason for its number. A full run must stay
 * under about ten minutes on the two shared cores of the build machine, so every figure is
 * measured a few times for a median but no more.
 */

/** Where generated logs and scratch stores live: on disk (never tmpfs, fsync must be real). */
export const cacheDir = join(__dirname, '.cache')

/** Scratch stores of one run, removed at its end. Under the cache so they share its disk. */
export const scratchDir = join(cacheDir, 'scratch')

/** Repetitions of each figure; the median is kept. Three is the least that has a median. */
export const repeatCount = 3

// ---- appends ----

/** The transaction sizes of ENVIRONMENT.md's raw insert baseline. */
export const appendTransactionSizes = [1, 10, 100, 1_000] as const

/**
 * Transactions per measured segment, by transaction size. The shared disk's fsync rate swings
 * tenfold within minutes (3,700 down to 260 per second was seen), so the raw and store sides
 * alternate transaction by transaction and a segment is a few seconds at the slow rate.
 */
export const appendTransactionsPerSegment: Readonly<Record<number, number>> = {
  1: 300,
  10: 200,
  100: 80,
  1_000: 15,
}

/** The append target of issue 7: the store keeps at least this share of raw inserts. */
export const appendRatioTarget = 0.8

// ---- purchases over HTTP ----

/** Connections of the throughput runs: autocannon -c 50, as in the issue. */
export const httpConnections = 50

/** Seconds of one throughput run: long enough for thousands of requests and many commits. */
export const httpDurationS = 8

/** Seconds of the warm-up run before each server is measured (JIT, caches), not counted. */
export const httpWarmupS = 3

/** The fixed rate of the latency run, in requests per second (issue 7). */
export const latencyRatePerSecond = 1_000

/** Seconds of the latency run: 10,000 requests give a p99 from a hundred samples. */
export const latencyDurationS = 10

/**
 * The pause before each latency run. The throughput runs before it leave the service minutes of
 * work behind them (the sealer hashing and the projections applying what was written at full
 * load), and a probe of the service showed that work and a full garbage collection in the first
 * second of the run: it measured the end of the last test, not a service at 1,000 a second.
 */
export const latencySettleMs = 5_000

/** Merchants the purchases are spread over: "a few", each a stream the command reads. */
export const httpMerchantCount = 5

/** Customers the purchases are spread over, so per-customer totals grow as in real use. */
export const httpCustomerCount = 20_000

/** A budget no benchmark exhausts: 10 million euros, so every bonus is granted in full. */
export const httpProgrammeBudgetCents = 1_000_000_000

/**
 * Purchases of one run of the SQLite ceiling (bench/ceiling.ts): some seconds of writes, long
 * enough for the WAL to be checkpointed many times, as it is under load.
 */
export const ceilingPurchaseCount = 20_000

/**
 * Purchases per commit of the ceiling: what the service's group commit gathered at -c 50 (about
 * 20 to 25 calls per batch, counted in the writer thread).
 */
export const ceilingPurchasesPerCommit = 20

/** Purchase targets of issue 7. */
export const purchaseRatioTarget = 0.5
export const purchaseP99MsMax = 10

/** How long a child server may take to answer before the benchmark gives up on it. */
export const serverStartTimeoutMs = 120_000

// ---- the million-event log ----

/** Events of the generated log (issue 7: a million). */
export const logEventCountMin = 1_000_000

/**
 * The sealer's default interval (LEDGER_SEAL_INTERVAL_EVENTS): the generated log is sealed as
 * the service would have sealed it.
 */
export const logSealIntervalEvents = 10_000

/** Commands generated before the store is awaited: one group commit of ~4,000 events. */
export const logCommandsPerFlush = 1_000

/** Replay targets of issue 7. */
export const rebuildRatioTarget = 0.6
export const verifyRatioTarget = 0.5

// ---- cold start and memory ----

/** How often the cold-start probe asks /health/ready: fine enough for a 1 s target. */
export const readyPollIntervalMs = 5

/** RSS is read this long after ready, once the start-up garbage has had a chance to go. */
export const rssSettleMs = 3_000

/** Targets of issue 7 with a million events. */
export const rssMegabytesMax = 256
export const coldStartMsMax = 1_000
