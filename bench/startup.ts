import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { builtServiceScript, startServer } from './child'
import type { GeneratedLog } from './log'
import { repeatCount, rssSettleMs, scratchDir } from './settings'
import { median, progress } from './stats'

/**
 * Cold start and resident memory with the million-event log: the service is started as in
 * production (`node dist/src/main.js`, compiled by `npm run build`) on the generated log and on
 * projections already rebuilt to its head, and timed from spawn to the first 200 of
 * /health/ready. Its RSS is read `rssSettleMs` later, with the peak (VmHWM) beside it. One start
 * before the measured ones warms the page cache, as any restart after the first would find it.
 *
 * The log is used in place (the service appends nothing on it: it ends sealed, and no request
 * is sent), and its head is checked afterwards; the projections are copied, since the service
 * writes its checkpoints on stop.
 */

export interface StartupResults {
  readonly coldStartMs: number
  readonly rssMegabytes: number
  readonly peakRssMegabytes: number
}

export const benchStartup = async (
  log: GeneratedLog,
  projectionsPath: string,
  nodeFlags?: readonly string[],
): Promise<StartupResults> => {
  mkdirSync(scratchDir, { recursive: true })
  const dir = mkdtempSync(join(scratchDir, 'startup-'))
  const headBefore = headOf(log.path)
  try {
    const samples: StartupResults[] = []
    for (let run = 0; run <= repeatCount; run += 1) {
      const sample = await startOnce(log, projectionsPath, dir, nodeFlags)
      if (run === 0) continue
      samples.push(sample)
      progress(
        `cold start ${sample.coldStartMs.toFixed(0)} ms, ` +
          `rss ${sample.rssMegabytes.toFixed(0)} MB ` +
          `(peak ${sample.peakRssMegabytes.toFixed(0)} MB)`,
      )
    }
    return {
      coldStartMs: median(samples.map((s) => s.coldStartMs)),
      rssMegabytes: median(samples.map((s) => s.rssMegabytes)),
      peakRssMegabytes: median(samples.map((s) => s.peakRssMegabytes)),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    const headAfter = headOf(log.path)
    if (headAfter !== headBefore) {
      throw new Error(`the service appended to the cached log (${headBefore} to ${headAfter})`)
    }
  }
}

const startOnce = async (
  log: GeneratedLog,
  projectionsPath: string,
  dir: string,
  nodeFlags?: readonly string[],
): Promise<StartupResults> => {
  const projections = join(dir, 'projections.db')
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${projections}${suffix}`, { force: true })
  copyFileSync(projectionsPath, projections)
  const keysFile = join(dir, 'keys.json')
  const keys = [{ key: 'bench-auditor-key-0123456789', role: 'auditor' }]
  writeFileSync(keysFile, JSON.stringify(keys))
  const service = await startServer({
    script: builtServiceScript,
    nodeFlags,
    env: {
      LEDGER_STORE: `sqlite:${log.path}`,
      LEDGER_PROJECTIONS: projections,
      LEDGER_API_KEYS_FILE: keysFile,
      LEDGER_VOUCHER_ID_SECRET: log.voucherIdSecret,
      LOG_LEVEL: 'info',
    },
  })
  try {
    await new Promise((resolve) => setTimeout(resolve, rssSettleMs))
    const memory = service.memoryMegabytes()
    return { coldStartMs: service.readyMs, rssMegabytes: memory.rss, peakRssMegabytes: memory.peak }
  } finally {
    await service.stop()
  }
}

const headOf = (path: string): number => {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const head = db.prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events').pluck()
    return head.get() ?? 0
  } finally {
    db.close()
  }
}
