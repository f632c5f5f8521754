import fc from 'fast-check'
import pino from 'pino'
import t from 'tap'
import { allProjections } from '../../projections'
import { ProjectionDocStore } from '../../src/projections/doc-store'
import { ProjectionEngine } from '../../src/projections/engine'
import { rebuildProjections } from '../../src/projections/rebuild'
import { startProjections } from '../../src/projections/runner'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ArrayEventStore } from './array-store'
import { simulatedLog } from './simulation'

/**
 * Rebuild equals live, over logs written by the domain's deciders: the runner fed in random
 * pages and stopped and restarted at a random position ends with exactly the documents of a
 * rebuild from position 0.
 */

const logger = pino({ level: 'silent' })

const docsIn = (path: string) => {
  const store = new ProjectionDocStore(path)
  const engine = new ProjectionEngine(allProjections, store)
  const docs = allProjections.map((p) => [p.name, [...engine.docs(p.name)]] as const)
  const position = engine.position()
  store.close()
  return { docs, position }
}

t.test('the runner, paged and restarted anywhere, equals a rebuild from 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'projection-props-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let run = 0

  await fc.assert(
    fc.asyncProperty(
      simulatedLog,
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      async (log, pageSizes, stopShare) => {
        run += 1
        const livePath = join(dir, `live-${run}.db`)
        const stopAt = Math.floor(log.length * stopShare)
        const head = log.length

        const first = startProjections({
          store: new ArrayEventStore(log.slice(0, stopAt), pageSizes),
          path: livePath,
          logger,
        })
        await first.waitForPosition(stopAt, 5_000)
        await first.stop()
        const second = startProjections({
          store: new ArrayEventStore(log, [...pageSizes].reverse()),
          path: livePath,
          logger,
        })
        const caughtUp = await second.waitForPosition(head, 5_000)
        await second.stop()

        const rebuiltPath = join(dir, `rebuilt-${run}.db`)
        await rebuildProjections({ store: new ArrayEventStore(log), path: rebuiltPath })
        const live = docsIn(livePath)
        const rebuilt = docsIn(rebuiltPath)
        t.same(live, rebuilt)
        return caughtUp && live.position === head
      },
    ),
    { numRuns: 25 },
  )
})

t.test('an engine reading documents on demand through a tiny cache equals a rebuild', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'projection-on-demand-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let run = 0

  await fc.assert(
    fc.asyncProperty(simulatedLog, fc.integer({ min: 1, max: 40 }), async (log, pageSize) => {
      run += 1
      const store = new ProjectionDocStore(join(dir, `on-demand-${run}.db`))
      const engine = new ProjectionEngine(allProjections, store, 'onDemand', 2)
      for (let start = 0; start < log.length; start += pageSize) {
        engine.apply(log.slice(start, start + pageSize))
        engine.commit()
      }
      const docs = allProjections.map((p) => [p.name, [...engine.docs(p.name)]] as const)
      const onDemand = { docs, position: engine.position() }
      store.close()

      const rebuiltPath = join(dir, `rebuilt-${run}.db`)
      await rebuildProjections({ store: new ArrayEventStore(log), path: rebuiltPath })
      t.same(onDemand, docsIn(rebuiltPath))
      return true
    }),
    { numRuns: 25 },
  )
})
