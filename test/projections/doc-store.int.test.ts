import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ProjectionDocStore } from '../../src/projections/doc-store'
import { docWriteRowsMax } from '../../src/projections/limits'

const docsNamed = (count: number, version: number): Map<string, unknown> =>
  new Map(
    Array.from({ length: count }, (_, index) => [
      `key-${String(index).padStart(5, '0')}`,
      {
        index,
        version,
      },
    ]),
  )

t.test('a commit of several statements of documents writes each one, and overwrites', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doc-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'p.db')
  // Two full statements and a remainder, then an overwrite that straddles the first boundary.
  const first = docsNamed(docWriteRowsMax * 2 + 7, 1)
  const store = new ProjectionDocStore(path)
  store.save(new Map([['vouchers', first]]), new Map([['vouchers', { version: 1, position: 5 }]]))
  const second = new Map([...docsNamed(docWriteRowsMax + 3, 2)].slice(docWriteRowsMax - 3))
  store.save(new Map([['vouchers', second]]), new Map([['vouchers', { version: 1, position: 9 }]]))
  store.close()

  const reopened = new ProjectionDocStore(path)
  t.teardown(() => reopened.close())
  const expected = new Map([...first, ...second])
  t.same(reopened.loadDocs('vouchers'), expected)
  t.same(reopened.loadDocs('others'), new Map())
  t.same(reopened.checkpoints(), new Map([['vouchers', { version: 1, position: 9 }]]))
})
