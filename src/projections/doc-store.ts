import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { WalCheckpointer } from '../store/wal-checkpointer'
import { docWriteRowsMax } from './limits'

/**
 * Where projections keep their documents and checkpoints: a SQLite file of its own, separate
 * from the event store, so it can be deleted and rebuilt at any time. A batch of changed
 * documents and the checkpoints they reach are written in one transaction, so after a crash the
 * documents are exactly those of the checkpoint: no event is lost or counted twice.
 */

/** Bumped when the tables change; an older file is dropped and rebuilt, never misread. */
const schemaVersion = 1

const schemaSql = `
  CREATE TABLE IF NOT EXISTS docs (
    projection TEXT NOT NULL,
    key TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (projection, key)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS checkpoints (
    projection TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL
  ) WITHOUT ROWID;
`

/** A projection's saved progress: the position it reflects, by the reducer version it used. */
export interface Checkpoint {
  readonly version: number
  readonly position: number
}

/** Changed documents per projection name, waiting to be written. */
export type DocChanges = ReadonlyMap<string, ReadonlyMap<string, unknown>>

/**
 * A batch's keys in order, so its upserts walk the docs b-tree from one end to the other. Keys
 * such as voucher ids are keyed hashes, random in order: unsorted, each upsert of a rebuild's
 * 300,000 voucher documents lands on another page of the tree, and writing them took twice as
 * long. Sorting a live runner's handful of keys costs next to nothing.
 */
const sortedKeys = (docs: ReadonlyMap<string, unknown>): string[] => [...docs.keys()].sort()

/** An upsert of `rows` documents in one statement. */
const upsertDocsSql = (rows: number): string =>
  'INSERT INTO docs (projection, key, json) VALUES ' +
  Array.from({ length: rows }, () => '(?, ?, ?)').join(', ') +
  ' ON CONFLICT (projection, key) DO UPDATE SET json = excluded.json'

export interface DocStoreOptions {
  /** How long a write waits for another connection's, as SQLite's busy timeout. */
  readonly commitWaitMs?: number
  /**
   * Checkpoints on a thread of their own (`WalCheckpointer`) instead of in the commits: for the
   * live runner, whose commits run on the thread that serves requests.
   */
  readonly checkpointOnThread?: boolean
}

/** The projection store; one per runner or rebuild, closed with `close()`. */
export class ProjectionDocStore {
  private readonly db: Database.Database
  private readonly checkpointer: WalCheckpointer | undefined
  private readonly upsertDoc: Database.Statement
  private readonly upsertDocs: Database.Statement
  private readonly upsertCheckpoint: Database.Statement
  private readonly selectDoc: Database.Statement<[string, string], string>
  private readonly writeBatch: (changes: DocChanges, checkpoints: Map<string, Checkpoint>) => void

  constructor(path: string, options: DocStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const { commitWaitMs } = options
    this.db = new Database(path, commitWaitMs === undefined ? {} : { timeout: commitWaitMs })
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.checkpointer =
      options.checkpointOnThread === true && path !== ':memory:'
        ? new WalCheckpointer(this.db, { path, synchronous: 'NORMAL' })
        : undefined
    if ((this.db.pragma('user_version', { simple: true }) as number) !== schemaVersion) {
      this.db.exec('DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS checkpoints;')
    }
    this.db.exec(schemaSql)
    this.db.pragma(`user_version = ${schemaVersion}`)

    this.upsertDoc = this.db.prepare(upsertDocsSql(1))
    this.upsertDocs = this.db.prepare(upsertDocsSql(docWriteRowsMax))
    this.upsertCheckpoint = this.db.prepare(
      'INSERT INTO checkpoints (projection, version, position) VALUES (?, ?, ?) ' +
        'ON CONFLICT (projection) DO UPDATE SET version = excluded.version, ' +
        'position = excluded.position',
    )
    this.selectDoc = this.db
      .prepare<[string, string], string>('SELECT json FROM docs WHERE projection = ? AND key = ?')
      .pluck()
    this.writeBatch = this.db.transaction((changes, checkpoints) => {
      for (const projection of [...changes.keys()].sort()) {
        this.writeDocs(projection, changes.get(projection) as ReadonlyMap<string, unknown>)
      }
      for (const [projection, c] of checkpoints) {
        this.upsertCheckpoint.run(projection, c.version, c.position)
      }
    })
  }

  /** Upserts a projection's documents in key order, `docWriteRowsMax` to a statement. */
  private writeDocs(projection: string, docs: ReadonlyMap<string, unknown>): void {
    const keys = sortedKeys(docs)
    const fullEnd = keys.length - (keys.length % docWriteRowsMax)
    const params: unknown[] = new Array(docWriteRowsMax * 3)
    for (let start = 0; start < fullEnd; start += docWriteRowsMax) {
      for (let row = 0; row < docWriteRowsMax; row += 1) {
        const key = keys[start + row] as string
        params[row * 3] = projection
        params[row * 3 + 1] = key
        params[row * 3 + 2] = JSON.stringify(docs.get(key))
      }
      this.upsertDocs.run(params)
    }
    for (const key of keys.slice(fullEnd)) {
      this.upsertDoc.run(projection, key, JSON.stringify(docs.get(key)))
    }
  }

  /** Every saved checkpoint, by projection name. */
  checkpoints(): Map<string, Checkpoint> {
    const rows = this.db
      .prepare('SELECT projection, version, position FROM checkpoints')
      .all() as { projection: string; version: number; position: number }[]
    return new Map(rows.map((r) => [r.projection, { version: r.version, position: r.position }]))
  }

  /** Every document of one projection, parsed, by key. */
  loadDocs(projection: string): Map<string, unknown> {
    const docs = new Map<string, unknown>()
    const rows = this.db
      .prepare('SELECT key, json FROM docs WHERE projection = ?')
      .raw()
      .iterate(projection) as IterableIterator<[string, string]>
    for (const [key, json] of rows) docs.set(key, JSON.parse(json))
    return docs
  }

  /** One saved document, parsed, or undefined if there is none. */
  loadDoc(projection: string, key: string): unknown {
    const json = this.selectDoc.get(projection, key)
    return json === undefined ? undefined : JSON.parse(json)
  }

  /** Forgets a projection's documents and sets it back to position 0 at a version. */
  reset(projections: readonly { name: string; version: number }[]): void {
    const deleteDocs = this.db.prepare('DELETE FROM docs WHERE projection = ?')
    this.db.transaction(() => {
      for (const { name, version } of projections) {
        deleteDocs.run(name)
        this.upsertCheckpoint.run(name, version, 0)
      }
    })()
  }

  /** Writes changed documents and the checkpoints they reach, all or nothing. */
  save(changes: DocChanges, checkpoints: Map<string, Checkpoint>): void {
    this.writeBatch(changes, checkpoints)
  }

  close(): void {
    // The thread stops on its own time; a checkpoint it is making is safe to leave unfinished.
    void this.checkpointer?.close()
    if (this.db.open) this.db.close()
  }
}
