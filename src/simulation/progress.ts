import { SingleBar, Presets } from 'cli-progress'
import type { Step } from './plan'

/**
 * Progress of a season while it runs: a bar on a terminal (cli-progress), and on anything
 * else (a CI log, a pipe) a plain line every tenth of the way, so logs stay readable.
 */
export interface Progress {
  update(done: number, step: Step): void
  stop(): void
}

/** Plain progress lines: one per tenth of the season. */
const plainLinesPerRun = 10

/** A bar redrawn more often than this only costs time: the eye cannot follow it anyway. */
const barRedrawIntervalMs = 100

export const createProgress = (
  total: number,
  output: NodeJS.WriteStream = process.stdout,
): Progress => (output.isTTY === true ? barProgress(total, output) : lineProgress(total, output))

const seasonDate = (step: Step): string => new Date(step.atMs).toISOString().slice(0, 10)

const barProgress = (total: number, output: NodeJS.WriteStream): Progress => {
  const bar = new SingleBar(
    {
      format: 'season {bar} {percentage}% | {value}/{total} steps | {date} {kind}',
      stream: output,
      fps: 1000 / barRedrawIntervalMs,
      hideCursor: true,
    },
    Presets.shades_classic,
  )
  bar.start(total, 0, { date: '', kind: '' })
  return {
    update: (done, step) => bar.update(done, { date: seasonDate(step), kind: step.kind }),
    stop: () => bar.stop(),
  }
}

const lineProgress = (total: number, output: NodeJS.WriteStream): Progress => {
  let nextTenth = 1
  return {
    update: (done, step) => {
      if (done * plainLinesPerRun < nextTenth * total) return
      nextTenth = Math.floor((done * plainLinesPerRun) / total) + 1
      const percent = Math.floor((done * 100) / total)
      output.write(`season ${percent}% (${done}/${total} steps, ${seasonDate(step)})\n`)
    },
    stop: () => undefined,
  }
}

/** No progress at all, for tests. */
export const silentProgress: Progress = { update: () => undefined, stop: () => undefined }
