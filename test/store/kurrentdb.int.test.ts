import t from 'tap'
import pino from 'pino'
import {
  GenericContainer,
  Wait,
  getContainerRuntimeClient,
  type StartedTestContainer,
} from 'testcontainers'
import { openKurrentDbEventStore } from '../../src/store/kurrentdb'
import { runEventStoreConformance } from './conformance'

/**
 * The conformance suite against a real KurrentDB, single node and insecure, in a container.
 * Where no container engine exists (the build machines here), the engine check fails in about
 * a millisecond and the test is skipped with the reason, instead of hanging on a pull.
 */

/** Server 25.1 or later: the first with the multi-stream append the adapter relies on. */
const image =
  process.env.LEDGER_KURRENTDB_IMAGE ?? 'docker.kurrent.io/kurrent-latest/kurrentdb:25.1'

/** Pulling the image on a cold machine takes most of this; starting the node a few seconds. */
const startupTimeoutMs = 180_000

const httpPort = 2113

const logger = pino({ enabled: false })

const containerRuntimeMissing = async (): Promise<string | false> => {
  try {
    await getContainerRuntimeClient()
    return false
  } catch (error) {
    return `no container engine on this machine (${(error as Error).message})`
  }
}

const startKurrentDb = (): Promise<StartedTestContainer> =>
  new GenericContainer(image)
    .withEnvironment({
      KURRENTDB_INSECURE: 'true',
      KURRENTDB_CLUSTER_SIZE: '1',
      KURRENTDB_MEM_DB: 'true',
      KURRENTDB_RUN_PROJECTIONS: 'None',
      KURRENTDB_ENABLE_ATOM_PUB_OVER_HTTP: 'false',
    })
    .withExposedPorts(httpPort)
    .withWaitStrategy(Wait.forHttp('/health/live', httpPort).forStatusCode(204))
    .withStartupTimeout(startupTimeoutMs)
    .start()

const main = async (): Promise<void> => {
  const skip = await containerRuntimeMissing()
  t.test('KurrentDB adapter against a server in a container', { skip }, async (t) => {
    const container = await startKurrentDb()
    t.teardown(() => container.stop())
    const url = `kurrentdb://${container.getHost()}:${container.getMappedPort(httpPort)}?tls=false`
    runEventStoreConformance(t, 'kurrentdb', async () => {
      const store = openKurrentDbEventStore(url, logger)
      return { store, cleanup: () => store.close() }
    })
    t.test('reads of everything never return system streams', async (t) => {
      const store = openKurrentDbEventStore(url, logger)
      t.teardown(() => store.close())
      const events = await store.readAll(0, 1_000)
      t.notOk(events.some((event) => event.streamId.startsWith('$')))
    })
  })
}

void main()
