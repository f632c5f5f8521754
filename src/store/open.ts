import type { Logger } from 'pino'
import { openKurrentDbEventStore } from './kurrentdb'
import { maskConnectionString } from './kurrentdb-mapping'
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

/** A connection string that names no backend this service has; says what would be accepted. */
export class UnsupportedStoreConnection extends Error {
  readonly _tag = 'UnsupportedStoreConnection'
  constructor(readonly connectionString: string) {
    super(`unsupported event store ${maskConnectionString(connectionString)}: expected ${accepted}`)
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
    return openKurrentDbEventStore(connectionString, logger)
  }
  throw new UnsupportedStoreConnection(connectionString)
}
