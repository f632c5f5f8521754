import type { Logger } from 'pino'
import type { EventStore } from './port'
import { openSqliteEventStore } from './sqlite'

/**
 * The one place that turns configuration (LEDGER_STORE) into an event store, so that the
 * service, the command-line tools and the tests choose a backend the same way.
 */

const sqlitePrefix = 'sqlite:'

/** Schemes of the KurrentDB client: one node or a list of nodes, or discovery through DNS. */
export const kurrentSchemes = [
  'esdb://',
  'esdb+discover://',
  'kurrentdb://',
  'kurrentdb+discover://',
] as const

const accepted = `${sqlitePrefix}<path> (or ${sqlitePrefix}:memory:), ${kurrentSchemes.join(', ')}`

/**
 * The KurrentDB adapter and its mapping load the KurrentDB client (gRPC), which costs the
 * embedded service about 28 MB of resident memory and 0.3 s of its start for nothing: they are
 * loaded only when a KurrentDB store is named, or to mask one in an error.
 */
const kurrentMapping = (): typeof import('./kurrentdb-mapping') =>
  require('./kurrentdb-mapping') as typeof import('./kurrentdb-mapping')

/** A connection string that names no backend this service has; says what would be accepted. */
export class UnsupportedStoreConnection extends Error {
  readonly _tag = 'UnsupportedStoreConnection'
  constructor(readonly connectionString: string) {
    super(
      `unsupported event store ${kurrentMapping().maskConnectionString(connectionString)}: ` +
        `expected ${accepted}`,
    )
    this.name = 'UnsupportedStoreConnection'
  }
}

/**
 * Opens the store named by `connectionString`: `sqlite:<path>` for the embedded store, or a
 * KurrentDB connection string for a cluster. Asynchronous so that callers need not change if
 * a backend comes to check its connection before answering.
 */
export const openEventStore = async (
  connectionString: string,
  logger: Logger,
): Promise<EventStore> => {
  if (connectionString.startsWith(sqlitePrefix)) {
    const path = connectionString.slice(sqlitePrefix.length)
    if (path.length === 0) throw new UnsupportedStoreConnection(connectionString)
    return openSqliteEventStore({ path, logger })
  }
  if (kurrentSchemes.some((scheme) => connectionString.startsWith(scheme))) {
    const { openKurrentDbEventStore } = await import('./kurrentdb')
    return openKurrentDbEventStore(connectionString, logger)
  }
  throw new UnsupportedStoreConnection(connectionString)
}
