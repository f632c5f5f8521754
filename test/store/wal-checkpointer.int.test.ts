import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import t from 'tap'
import { walCheckpointIntervalMs } from '../../src/limits'
import { WalCheckpointer } from '../../src/store/wal-checkpointer'

const openWal = (path: string): Database.Database => {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  return db
}

/** Polls until `done` holds, for a few seconds at most. */
const eventually = async (done: () => boolean): Promise<boolean> => {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (done()) return true
    await sleep(walCheckpointIntervalMs / 4)
  }
  return done()
}

t.test('the thread copies the WAL into the file; commits no longer do', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'file.db')
  const db = openWal(path)
  db.exec('CREATE TABLE rows (text TEXT NOT NULL)')
  const checkpointer = new WalCheckpointer(db, { path, synchronous: 'FULL' })
  t.ok(
    await eventually(() => db.pragma('wal_autocheckpoint', { simple: true }) === 0),
    "SQLite's own are off once the thread has started",
  )

  const sizeBefore = statSync(path).size
  // 2 MB in one commit: SQLite's automatic checkpoint would have copied it at once.
  const insert = db.prepare('INSERT INTO rows (text) VALUES (?)')
  db.transaction(() => {
    for (let row = 0; row < 2_000; row += 1) insert.run('x'.repeat(1_000))
  })()
  t.ok(
    await eventually(() => statSync(path).size > sizeBefore + 2_000_000),
    'the rows reached the database file',
  )
  await checkpointer.close()
  db.close()
})

t.test("a thread that cannot start leaves the connection SQLite's own checkpoints", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const db = openWal(join(dir, 'file.db'))
  t.teardown(() => db.close())
  // The thread opens only a file that exists: this one does not.
  const checkpointer = new WalCheckpointer(db, { path: join(dir, 'gone.db'), synchronous: 'FULL' })
  await checkpointer.close()
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1_000)
})

t.test('under writes that never pause, the WAL is rewound and stays bounded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'file.db')
  const db = openWal(path)
  db.exec('CREATE TABLE rows (text TEXT NOT NULL)')
  const restartFrames = 200
  const checkpointer = new WalCheckpointer(db, { path, synchronous: 'NORMAL', restartFrames })
  const insert = db.prepare('INSERT INTO rows (text) VALUES (?)')
  const write = db.transaction(() => {
    for (let row = 0; row < 20; row += 1) insert.run('x'.repeat(1_000))
  })

  // A commit every millisecond or so for twice the interval many times over: passive
  // checkpoints alone let such a WAL grow by every commit's pages (about 8 MB here).
  const endMs = Date.now() + walCheckpointIntervalMs * 10
  let largestWalBytes = 0
  while (Date.now() < endMs) {
    write()
    largestWalBytes = Math.max(largestWalBytes, statSync(`${path}-wal`).size)
    await sleep(1)
  }
  const writtenBytes = statSync(path).size
  t.ok(writtenBytes > 4_000_000, `enough was written (${writtenBytes} bytes)`)
  t.ok(largestWalBytes < writtenBytes / 2, `the WAL stayed small (${largestWalBytes} bytes)`)
  await checkpointer.close()
  db.close()
})
