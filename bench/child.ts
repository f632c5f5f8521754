import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { readyPollIntervalMs, serverStartTimeoutMs } from './settings'

/**
 * Servers under test run in child processes, so the load generator and the server do not share
 * one event loop, and the ledger starts exactly as in production: compiled by `npm run build`,
 * then `node dist/src/main.js` (what `npm start` runs, without npm's own process around it).
 */

export const repoRoot = join(__dirname, '..')

/** The service as `npm run build` compiles it. */
export const builtServiceScript = 'dist/src/main.js'

/** Runs `npm run build`, so the children run the code of this commit. */
export const buildService = (): void => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'inherit' })
}

export interface ChildServer {
  readonly pid: number
  readonly url: string
  /** From spawn to the first 200 of /health/ready. */
  readonly readyMs: number
  /** Resident and peak resident memory of the process now, in megabytes (Linux /proc). */
  memoryMegabytes(): { rss: number; peak: number }
  /** CPU time the process has used so far (user and system), in milliseconds. */
  cpuMs(): number
  stop(): Promise<void>
}

/** A port nobody listens on, found by letting the kernel pick one. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** The end of a child's stderr kept to explain a failed start: a stack trace or two. */
const stderrKeptChars = 4_000

export interface StartOptions {
  /** A compiled `.js` file runs as it is; a `.ts` file runs through tsx. */
  readonly script: string
  readonly env: Record<string, string>
  /** Extra node flags, e.g. `--cpu-prof` when profiling. */
  readonly nodeFlags?: readonly string[]
}

const serverLogFd = (): 'ignore' | number => {
  const path = process.env.BENCH_SERVER_LOG
  return path === undefined || path === '' ? 'ignore' : openSync(path, 'a')
}

/** Starts a server script with PORT set, and resolves once /health/ready answers 200. */
export const startServer = async (options: StartOptions): Promise<ChildServer> => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const logFd = serverLogFd()
  const startNs = process.hrtime.bigint()
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      ...(options.script.endsWith('.ts') ? ['--import', 'tsx'] : []),
      options.script,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      // Request logs go to /dev/null: writing them is the server's cost, reading them is not.
      // BENCH_SERVER_LOG names a file to keep them in instead, to find out why requests failed.
      stdio: ['ignore', logFd, 'pipe'],
    },
  )
  // The child holds its own copy of the log file's descriptor.
  if (logFd !== 'ignore') closeSync(logFd)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString()}`.slice(-stderrKeptChars)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  try {
    await waitReady(url, exited)
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${options.script} did not start: ${(error as Error).message}\n${stderr}`)
  }
  const readyMs = Number(process.hrtime.bigint() - startNs) / 1e6
  return {
    pid: child.pid as number,
    url,
    readyMs,
    memoryMegabytes: () => memoryOf(child.pid as number),
    cpuMs: () => cpuMsOf(child.pid as number),
    stop: () => stopChild(child, exited),
  }
}

const waitReady = async (url: string, exited: Promise<number | null>): Promise<void> => {
  let exitCode: number | null | undefined
  void exited.then((code) => (exitCode = code))
  const deadlineMs = Date.now() + serverStartTimeoutMs
  while (Date.now() < deadlineMs) {
    if (exitCode !== undefined) throw new Error(`exited with code ${String(exitCode)}`)
    if ((await statusOf(`${url}/health/ready`)) === 200) return
    await new Promise((resolve) => setTimeout(resolve, readyPollIntervalMs))
  }
  throw new Error(`not ready after ${serverStartTimeoutMs} ms`)
}

/** The status of a GET, or 0 when nothing answers yet. */
export const statusOf = (url: string): Promise<number> =>
  new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })

const memoryOf = (pid: number): { rss: number; peak: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kilobytes = (field: string): number =>
    Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rss: kilobytes('VmRSS') / 1024, peak: kilobytes('VmHWM') / 1024 }
}

/** Linux counts CPU time in clock ticks of 1/100 s (getconf CLK_TCK) on every usual kernel. */
const clockTicksPerSecond = 100

const cpuMsOf = (pid: number): number => {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / clockTicksPerSecond
}

/** SIGTERM (the service seals and saves on it), then SIGKILL if it does not go in time. */
const stopChild = async (child: ChildProcess, exited: Promise<number | null>): Promise<void> => {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), serverStartTimeoutMs)
  await exited
  clearTimeout(timer)
}

/** A JSON POST for setting up a server under test; throws unless it answers 2xx. */
export const postJson = (
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const text = JSON.stringify(body)
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        },
      },
      (res) => {
        let answer = ''
        res.on('data', (chunk: Buffer) => (answer += chunk.toString()))
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) resolve(JSON.parse(answer))
          else reject(new Error(`POST ${url}: ${status} ${answer}`))
        })
      },
    )
    req.on('error', reject)
    req.end(text)
  })
