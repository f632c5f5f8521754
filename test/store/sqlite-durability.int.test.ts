import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { RecordedEvent } from '../../src/store/port'
import { openSqliteEventStore } from '../../src/store/sqlite'
import { isGrowing } from './conformance'

/**
 * What `synchronous=FULL` and the group commit promise: an append that was acknowledged is in
 * the file even when the process dies the instant after, and a call that was not is either
 * whole or absent. A child appends in a loop and is killed with SIGKILL at a random moment.
 */

/** The child runs at least this long before the kill, so that it has acknowledged calls. */
const killAfterAckMsMin = 200

/** Random extra time before the kill, so that it lands at a different point every run. */
const killJitterMs = 600

const fixture = join(__dirname, 'fixtures', 'append-loop.ts')

interface ChildRun {
  readonly intents: Map<string, number>
  readonly acks: Map<string, number>
}

/**
 * Runs the child until it is killed. `node --import tsx` rather than `npx tsx`: npx would put a
 * process between us and the appender, and the kill would land on npx, not on the appender.
 */
const runAndKill = (path: string): Promise<ChildRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const run: ChildRun = { intents: new Map(), acks: new Map() }
    let killScheduled = false
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, callId, value] = line.split(' ')
      if (kind === 'intent') run.intents.set(callId as string, Number(value))
      if (kind !== 'ack') return
      run.acks.set(callId as string, Number(value))
      if (killScheduled) return
      killScheduled = true
      setTimeout(() => child.kill('SIGKILL'), killAfterAckMsMin + Math.random() * killJitterMs)
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(run)
      else reject(new Error(`append loop exited by itself: code ${code}, signal ${signal}`))
    })
  })

const groupByStream = (events: readonly RecordedEvent[]): Map<string, number[]> => {
  const revisions = new Map<string, number[]>()
  for (const event of events) {
    const list = revisions.get(event.streamId) ?? []
    list.push(event.revision)
    revisions.set(event.streamId, list)
  }
  return revisions
}

t.test('acknowledged appends survive SIGKILL; the others are whole or absent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-durability-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'ledger.db')
  const run = await runAndKill(path)
  t.ok(run.acks.size > 0, `the child acknowledged ${run.acks.size} calls before the kill`)

  const store = openSqliteEventStore({ path })
  t.teardown(() => store.close())
  const events = [...store.iterateAll()]
  const perCall = new Map<string, RecordedEvent[]>()
  for (const event of events) {
    const callId = (event.data as { callId: string }).callId
    perCall.set(callId, [...(perCall.get(callId) ?? []), event])
  }

  const lost = [...run.acks.keys()].filter((callId) => (perCall.get(callId)?.length ?? 0) !== 3)
  t.same(lost, [], 'every acknowledged call is present in full')
  const ackedPositionsMatch = [...run.acks].every(([callId, position]) =>
    perCall.get(callId)?.some((event) => event.position === position),
  )
  t.ok(ackedPositionsMatch, 'at the positions that were acknowledged')
  const partial = [...run.intents].filter(([callId, count]) => {
    const present = perCall.get(callId)?.length ?? 0
    return present !== 0 && present !== count
  })
  t.same(partial, [], 'no call is partly present')
  const gaps = [...groupByStream(events)].filter(([, revisions]) =>
    revisions.some((revision, index) => revision !== index),
  )
  t.same(gaps, [], 'every stream counts its revisions from 0 without a gap')
  t.ok(isGrowing(events.map((event) => event.position)), 'positions only grow')
})
