import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
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

/** The checkpoints a batch of changes reaches, by projection name. */
export type Checkpoints = ReadonlyMap<string, Checkpoint>

/**
 * A projection's changed documents as the file stores them: keys in order and the JSON of each.
 * Strings cross to another thread as copies of their bytes, where documents would be walked.
 */
export interface DocTexts {
  readonly projection: string
  readonly keys: readonly string[]
  readonly texts: readonly string[]
}

/** The changes as `DocTexts`, projections and keys in order. */
export const docTextsOf = (changes: DocChanges): DocTexts[] =>
  [...changes.keys()].sort().map((projection) => {
    const docs = changes.get(projection) as ReadonlyMap<string, unknown>
    const keys = sortedKeys(docs)
    return { projection, keys, texts: keys.map((key) => JSON.stringify(docs.get(key))) }
  })

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
}

/** The projection store; one per runner or rebuild, closed with `close()`. */
export class ProjectionDocStore {
  private readonly db: Database.Database
  private readonly upsertDoc: Database.Statement
  private readonly upsertDocs: Database.Statement
  private readonly upsertCheckpoint: Database.Statement
  private readonly selectDoc: Database.Statement<[string, string], string>
  private readonly writeBatch: (changes: DocChanges, checkpoints: Checkpoints) => void
  private readonly writeTextBatch: (batch: readonly DocTexts[], checkpoints: Checkpoints) => void

  constructor(path: string, options: DocStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const { commitWaitMs } = options
    this.db = new Database(path, commitWaitMs === undefined ? {} : { timeout: commitWaitMs })
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
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
    // Documents are written as JSON here, one at a time: a rebuild's 300,000 texts never all
    // exist at once.
    this.writeBatch = this.db.transaction((changes, checkpoints) => {
      for (const projection of [...changes.keys()].sort()) {
        const docs = changes.get(projection) as ReadonlyMap<string, unknown>
        const keys = sortedKeys(docs)
        this.writeDocs(projection, keys, (index) => JSON.stringify(docs.get(keys[index] as string)))
      }
      this.writeCheckpoints(checkpoints)
    })
    this.writeTextBatch = this.db.transaction((batch, checkpoints) => {
      for (const { projection, keys, texts } of batch) {
        this.writeDocs(projection, keys, (index) => texts[index] as string)
      }
      this.writeCheckpoints(checkpoints)
    })
  }

  /**
   * Upserts a projection's documents, whose keys are given in order, `docWriteRowsMax` to a
   * statement; `textAt` gives the JSON of the document at an index of `keys`.
   */
  private writeDocs(projection: string, keys: readonly string[], textAt: (i: number) => string) {
    const fullEnd = keys.length - (keys.length % docWriteRowsMax)
    const params: unknown[] = new Array(docWriteRowsMax * 3)
    for (let start = 0; start < fullEnd; start += docWriteRowsMax) {
      for (let row = 0; row < docWriteRowsMax; row += 1) {
        params[row * 3] = projection
        params[row * 3 + 1] = keys[start + row]
        params[row * 3 + 2] = textAt(start + row)
      }
      this.upsertDocs.run(params)
    }
    for (let index = fullEnd; index < keys.length; index += 1) {
      this.upsertDoc.run(projection, keys[index], textAt(index))
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

  private writeCheckpoints(checkpoints: Checkpoints): void {
    for (const [projection, c] of checkpoints) {
      this.upsertCheckpoint.run(projection, c.version, c.position)
    }
  }

  /** Writes changed documents and the checkpoints they reach, all or nothing. */
  save(changes: DocChanges, checkpoints: Checkpoints): void {
    this.writeBatch(changes, checkpoints)
  }

  /** `save` for documents already written as JSON (`docTextsOf`), as the doc writer gets them. */
  saveTexts(batch: readonly DocTexts[], checkpoints: Checkpoints): void {
    this.writeTextBatch(batch, checkpoints)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
