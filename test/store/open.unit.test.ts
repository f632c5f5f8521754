import t from 'tap'
import pino from 'pino'
import { KurrentDbEventStore } from '../../src/store/kurrentdb'
import { UnsupportedStoreConnection, openEventStore } from '../../src/store/open'
import { SqliteEventStore } from '../../src/store/sqlite'

const logger = pino({ enabled: false })

t.test('sqlite: opens the embedded store', async (t) => {
  const store = await openEventStore('sqlite::memory:', logger)
  t.teardown(() => store.close())
  t.ok(store instanceof SqliteEventStore)
})

t.test('KurrentDB schemes open the cluster adapter without connecting yet', async (t) => {
  for (const url of [
    'kurrentdb://node1:2113,node2:2113,node3:2113?tls=false',
    'kurrentdb+discover://cluster.internal:2113',
    'esdb://localhost:2113?tls=false',
    'esdb+discover://cluster.internal:2113',
  ]) {
    const store = await openEventStore(url, logger)
    t.ok(store instanceof KurrentDbEventStore, url)
    await store.close()
  }
})

t.test('anything else is refused, saying what is accepted, without the password', async (t) => {
  const cases = ['postgres://ledger:s3cret@db/ledger', 'sqlite:', 'data/ledger.db']
  for (const url of cases) {
    const error = await openEventStore(url, logger).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(error instanceof UnsupportedStoreConnection, url)
    const message = (error as Error).message
    t.match(message, /sqlite:<path>/)
    t.match(message, /kurrentdb:\/\//)
    t.notMatch(message, /s3cret/)
  }
})
