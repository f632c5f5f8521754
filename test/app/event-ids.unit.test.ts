import t from 'tap'
import { v5 as uuidV5 } from 'uuid'
import { uuidV5In } from '../../src/app/event-ids'

/** The executor's namespace, and the RFC's DNS namespace as a second one. */
const namespaces = ['6f1c0a52-3f0e-5b7c-9a4e-2d8b1e7c4a90', '6ba7b810-9dad-11d1-80b4-00c04fd430c8']

const names = [
  '',
  'cmd-1/programme-p1/0',
  '0b6f7c1e-2d3a-4f5b-8c9d-0e1f2a3b4c5d/voucher-abc/3',
  'été/ünïcode/名前/🎟',
  'x'.repeat(1_000),
]

t.test('event ids equal the uuid package v5 for every namespace and name', async (t) => {
  for (const namespace of namespaces) {
    const idOf = uuidV5In(namespace)
    for (const name of names) t.equal(idOf(name), uuidV5(name, namespace), `${namespace} ${name}`)
  }
})

t.test('a namespace that is not a UUID is refused', async (t) => {
  t.throws(() => uuidV5In('not-a-uuid'))
})
