/**
 * Small helpers shared by the benchmarks: the median that every figure is reported as, rounding
 * for the report, and a progress line on stderr so a ten-minute run shows where it is.
 */

/** The median of some samples; the machine is shared, so one slow sample must not count. */
export const median = (samples: readonly number[]): number => {
  if (samples.length === 0) throw new Error('assertion failed: median of no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** The value below which `q` of the sorted samples lie (nearest rank). */
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN

/** Rounds to a number of decimals, for figures written to the report and results.json. */
export const round = (value: number, decimals = 0): number => {
  const factor = 10 ** decimals
  return Math.round(value * factor) / factor
}

/** Milliseconds since an `hrtime.bigint()` reading, as a float. */
export const elapsedMs = (startNs: bigint): number =>
  Number(process.hrtime.bigint() - startNs) / 1e6

/** A rate in events (or requests) per second. */
export const perSecond = (count: number, durationMs: number): number => (count * 1000) / durationMs

/** One progress line on stderr; stdout stays free for the final table. */
export const progress = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}
