import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pino from 'pino'
import t from 'tap'
import { allProjections, type StoredProjection } from '../../projections'
import { startProjections } from '../../src/projections/runner'
import { rebuildProjections } from '../../src/projections/rebuild'
import { rebuildOnThread } from '../../src/projections/rebuild-threads'
import type { EventStore, SubscriptionHandler } from '../../src/store/port'
import { openSqliteEventStore } from '../../src/store/sqlite'
import { event, merchantRegistered, seasonEvents } from './fixtures'
import { StoreWriter } from './store-writer'

const logger = pino({ level: 'silent' })

/** Every document of a projection file, parsed, in a stable order. */
const docsOf = (path: string) => {
  const db = new Database(path, { readonly: true })
  const rows = db
    .prepare('SELECT projection, key, json FROM docs ORDER BY projection, key')
    .all() as { projection: string; key: string; json: string }[]
  const checkpoints = db.prepare('SELECT * FROM checkpoints ORDER BY projection').all()
  db.close()
  return { docs: rows.map((r) => [r.projection, r.key, JSON.parse(r.json)]), checkpoints }
}

const setup = (teardown: (fn: () => Promise<void>) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'projections-'))
  const store = openSqliteEventStore({ path: join(dir, 'ledger.db'), logger })
  teardown(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { dir, store, writer: new StoreWriter(store) }
}

/** The store, noting the position each subscription starts after. */
const spying = (store: EventStore, startedAfter: number[]): EventStore => {
  const spy = Object.create(store) as EventStore
  spy.subscribeToAll = (afterPosition, handler) => {
    startedAfter.push(afterPosition)
    return store.subscribeToAll(afterPosition, handler)
  }
  return spy
}

/**
 * A healthy runner restarted on `path` catches up to `head` and holds what a rebuild from 0
 * does: nothing a failed runner left behind was lost or counted twice. Rejects otherwise.
 */
const restartEqualsRebuild = async (store: EventStore, dir: string, path: string, head: number) => {
  const healthy = startProjections({ store, path, logger })
  const caughtUp = await healthy.waitForPosition(head, 5_000)
  await healthy.stop()
  await rebuildProjections({ store, path: join(dir, 'rebuilt.db') })
  const rebuilt = JSON.stringify(docsOf(join(dir, 'rebuilt.db')).docs)
  if (!caughtUp || JSON.stringify(docsOf(path).docs) !== rebuilt) {
    throw new Error(`the restarted runner ${caughtUp ? 'differs from a rebuild' : 'lags'}`)
  }
}

const commandNoise = event('CommandAccepted', {
  idempotencyKey: 'k1',
  requestHash: 'h',
  commandType: 'Purchase',
  response: { ok: true },
})

t.test('catches up, restarts from its checkpoint, and equals a rebuild from 0', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const season = seasonEvents()
  const half = Math.floor(season.length / 2)
  const livePath = join(dir, 'live.db')

  const first = startProjections({ store, path: livePath, logger })
  const middle = await writer.append([...season.slice(0, half), commandNoise])
  t.equal(await first.waitForPosition(middle, 5_000), true)
  t.equal(first.position(), middle)
  t.match(first.merchantBalance('M1'), { purchaseCents: 10_000, asOfPosition: middle })
  await first.stop()

  const head = await writer.append(season.slice(half))
  const startedAfter: number[] = []
  const second = startProjections({ store: spying(store, startedAfter), path: livePath, logger })
  t.same(startedAfter, [middle], 'resumes from the saved checkpoint')
  t.equal(await second.waitForPosition(head, 5_000), true)
  t.match(second.programmeReport('P1'), {
    budgetCents: 160_000,
    bonusGrantedCents: 7_500,
    owedCents: 22_000,
    leverage: 5.17,
    asOfPosition: head,
  })
  t.match(second.voucher('b-pu1'), { remainingCents: 0, status: 'refunded' })
  t.same(second.stock('M1')?.items, [{ sku: 'tea', onHand: 5, reserved: 2, available: 3 }])
  t.equal(second.lagEvents(), 0)
  await second.stop()

  const rebuiltPath = join(dir, 'rebuilt.db')
  const rebuilt = await rebuildProjections({ store, path: rebuiltPath })
  t.equal(rebuilt.position, head)
  t.same(docsOf(livePath), docsOf(rebuiltPath), 'live and rebuilt documents are identical')
})

t.test('a rebuild on threads equals one on the calling thread, up to the head', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  // The log ends with events no projection reads: every checkpoint must still reach the head.
  const head = await writer.append([...seasonEvents(), commandNoise, commandNoise])

  const onThreads = await rebuildProjections({
    store,
    path: join(dir, 'threads.db'),
    threads: true,
  })
  const here = await rebuildProjections({ store, path: join(dir, 'here.db'), threads: false })
  t.same(onThreads, { ...onThreads, position: head, threadCount: 1 })
  t.same(here, { ...here, position: head, threadCount: 0 })
  const rebuilt = docsOf(join(dir, 'threads.db'))
  t.same(rebuilt, docsOf(join(dir, 'here.db')))
  t.ok(
    rebuilt.docs.some(([projection]) => projection === 'vouchers'),
    'vouchers were rebuilt',
  )
  t.same(
    rebuilt.checkpoints,
    allProjections
      .map((p) => ({ projection: p.name, version: p.version, position: head }))
      .sort((a, b) => a.projection.localeCompare(b.projection)),
  )
})

t.test('a rebuild thread that fails rejects with its error', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const head = await writer.append(seasonEvents())
  const task = { storePath: store.path, projectionsPath: join(dir, 'p.db'), head }
  await t.rejects(rebuildOnThread({ ...task, name: 'no-such-projection' }), {
    message: 'no projection is named no-such-projection',
  })
  // A log the thread cannot find, or that is shorter than the one the rebuild read, is refused:
  // replayed, it would commit empty documents at a head they never saw.
  const gone = join(dir, 'moved.db')
  await t.rejects(rebuildOnThread({ ...task, storePath: gone, name: 'vouchers' }))
  t.notOk(existsSync(gone), 'no empty log is made where the file was')
  await t.rejects(rebuildOnThread({ ...task, head: head + 1, name: 'vouchers' }), {
    message: `${store.path} ends at ${head}, before the head ${head + 1} to rebuild`,
  })
  await t.resolves(rebuildOnThread({ ...task, name: 'vouchers' }))
})

t.test('queries answer what the API says, undefined for what is unknown', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const head = await writer.append(seasonEvents())
  const runner = startProjections({ store, path: join(dir, 'p.db'), logger })
  t.teardown(() => runner.stop())
  await runner.waitForPosition(head, 5_000)

  t.same(runner.merchantBalance('M3'), {
    merchantId: 'M3',
    purchaseCents: 0,
    refundedCents: 0,
    bonusRedeemedCents: 0,
    paidOutCents: 0,
    inFlightCents: 0,
    owedCents: 0,
    asOfPosition: head,
  })
  t.same(runner.stock('M3'), { merchantId: 'M3', items: [], asOfPosition: head })
  t.equal(runner.merchantBalance('nobody'), undefined)
  t.equal(runner.stock('nobody'), undefined)
  t.equal(runner.voucher('nothing'), undefined)
  t.equal(runner.programmeReport('P9'), undefined)
  t.equal(runner.programmeReportCsv('P9'), undefined)

  const csv = runner.programmeReportCsv('P1') ?? ''
  t.match(csv, /^programmeId,scope,code,name,figure,value\n/)
  t.match(csv, /P1,programme,P1,Saison 2026,budgetCents,160000\n/)
  t.match(csv, /P1,programme,P1,Saison 2026,leverage,5.17\n/)

  const trial = runner.accountBalances()
  t.equal(
    trial.accounts.reduce((sum, a) => sum + a.balanceCents, 0),
    0,
    'trial balance is zero',
  )
})

t.test('waitForPosition answers false after its timeout, true once caught up', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const runner = startProjections({ store, path: join(dir, 'p.db'), logger })
  t.teardown(() => runner.stop())
  t.equal(await runner.waitForPosition(1, 50), false)
  const waiting = runner.waitForPosition(3, 5_000)
  await writer.append(seasonEvents().slice(0, 3))
  t.equal(await waiting, true)
  t.equal(await runner.waitForPosition(0, 0), true)
})

t.test('a projection whose version changed is rebuilt from 0 at start', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const path = join(dir, 'p.db')
  const head = await writer.append(seasonEvents())
  const first = startProjections({ store, path, logger })
  await first.waitForPosition(head, 5_000)
  await first.stop()
  const before = docsOf(path)

  const bumped = allProjections.map((p) =>
    p.name === 'vouchers' ? { ...p, version: p.version + 1 } : p,
  )
  const db = new Database(path)
  db.prepare("UPDATE docs SET json = '{}' WHERE projection = 'vouchers'").run()
  db.close()

  const startedAfter: number[] = []
  const second = startProjections({
    store: spying(store, startedAfter),
    path,
    logger,
    projections: bumped,
  })
  t.same(startedAfter, [0], 'the bumped projection starts over')
  t.equal(await second.waitForPosition(head, 5_000), true)
  await second.stop()
  const after = docsOf(path)
  t.same(after.docs, before.docs, 'documents rebuilt as they were')
  t.match(after.checkpoints, [{ projection: 'account-balances', version: 1 }])
})

t.test('a failing batch commits nothing: restart neither loses nor double-counts', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const path = join(dir, 'p.db')
  const season = seasonEvents()
  const ok = await writer.append(season.slice(0, 6))

  let failOn = -1
  const faulty: StoredProjection[] = allProjections.map((p) =>
    p.name !== 'programme-figures'
      ? p
      : {
          ...p,
          apply: (e, current) => {
            if (e.position === failOn) throw new Error('disk on fire')
            return p.apply(e, current)
          },
        },
  )
  const runner = startProjections({ store, path, logger, projections: faulty })
  t.equal(await runner.waitForPosition(ok, 5_000), true)

  failOn = ok + 2
  const head = await writer.append(season.slice(6))
  t.equal(await runner.waitForPosition(head, 300), false)
  t.match(runner.failure()?.message, /disk on fire/)
  t.ok(runner.position() < failOn, 'the failed batch is not visible')
  await runner.stop()

  await t.resolves(restartEqualsRebuild(store, dir, path, head))
})

t.test('a commit the writer thread fails stops the runner; nothing of it is visible', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const path = join(dir, 'p.db')
  const season = seasonEvents()
  const ok = await writer.append(season.slice(0, 6))

  let unwritableFrom = Number.POSITIVE_INFINITY
  // A document JSON cannot write: the writer thread's upsert refuses the missing text.
  const faulty: StoredProjection[] = allProjections.map((p) =>
    p.name !== 'merchants'
      ? p
      : {
          ...p,
          apply: (e, current) =>
            e.position >= unwritableFrom
              ? new Map([...p.apply(e, current).keys()].map((key) => [key, undefined]))
              : p.apply(e, current),
        },
  )
  const runner = startProjections({ store, path, logger, projections: faulty })
  t.equal(await runner.waitForPosition(ok, 5_000), true)

  unwritableFrom = ok + 1
  const head = await writer.append([merchantRegistered('M9'), ...season.slice(6)])
  // The read is answered when the runner fails, long before its own timeout.
  const answer = await Promise.race([
    runner.waitForPosition(head, 30_000),
    new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000)),
  ])
  t.equal(answer, false)
  t.match(runner.failure()?.message, /NOT NULL/)
  t.equal(runner.position(), ok, 'the failed commit is not visible')
  t.equal(runner.merchant('M9'), undefined)
  await runner.stop()

  await t.resolves(restartEqualsRebuild(store, dir, path, head))
})

t.test('a read waiting for a position has it committed at once, not at the interval', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const season = seasonEvents()
  const path = join(dir, 'live.db')
  const runner = startProjections({ store, path, logger, commitIntervalMs: 600_000 })
  const first = await writer.append(season.slice(0, 3))
  t.equal(await runner.waitForPosition(first, 5_000), true, 'a first read')

  const head = await writer.append(season.slice(3))
  // Let the runner apply the events with nobody waiting, so they stay staged.
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.ok(runner.position() < head, 'applied events wait for the interval while nobody asks')
  t.equal(await runner.waitForPosition(head, 5_000), true, 'a waiter that comes later')
  t.equal(runner.position(), head)
  await runner.stop()
  const checkpoints = docsOf(path).checkpoints as { position: number }[]
  t.ok(checkpoints.length > 0 && checkpoints.every((c) => c.position === head), 'saved at head')
})

t.test('pages applied before the store fails are committed all the same', async (t) => {
  const { dir, store, writer } = setup((fn) => t.teardown(fn))
  const season = seasonEvents()
  const path = join(dir, 'live.db')
  const handlers: SubscriptionHandler[] = []
  const spy = Object.create(store) as EventStore
  spy.subscribeToAll = (afterPosition, handler) => {
    handlers.push(handler)
    return store.subscribeToAll(afterPosition, handler)
  }
  const runner = startProjections({ store: spy, path, logger, commitIntervalMs: 600_000 })
  const head = await writer.append(season)
  // Let the runner apply the events with nobody waiting, so they stay staged.
  await new Promise((resolve) => setTimeout(resolve, 200))
  handlers[0]?.onError?.(new Error('the log could not be read'))
  t.match(runner.failure()?.message, /could not be read/)
  await runner.stop()
  const checkpoints = docsOf(path).checkpoints as { position: number }[]
  t.ok(checkpoints.length > 0 && checkpoints.every((c) => c.position === head), 'saved at head')
})
