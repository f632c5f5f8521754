import fc from 'fast-check'
import t from 'tap'
import { canonicalJson } from '../../src/audit/hash'

/**
 * The hash chain depends on `canonicalJson` giving exactly one text per value, forever: a
 * change of a single character would make every stored hash fail verification. Its lean form is
 * checked against the reference form it replaced, on arbitrary values.
 */
const referenceCanonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
  const members = keys.map((key) => `${JSON.stringify(key)}:${referenceCanonicalJson(record[key])}`)
  return `{${members.join(',')}}`
}

t.test('the lean canonical JSON is the reference text for any JSON value', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => canonicalJson(value) === referenceCanonicalJson(value)),
    { numRuns: 2_000 },
  )
})

t.test('and for values with holes, undefined members and odd keys', async (t) => {
  const values = fc.anything({
    withNullPrototype: true,
    withSparseArray: true,
    withBoxedValues: false,
    withBigInt: false,
  })
  fc.assert(
    fc.property(values, (value) => canonicalJson(value) === referenceCanonicalJson(value)),
    { numRuns: 2_000 },
  )
})

t.test('known texts do not move', async (t) => {
  const nested = { b: [1, 'x', null], a: { d: true, c: undefined } }
  t.equal(canonicalJson(nested), '{"a":{"d":true},"b":[1,"x",null]}')
  t.equal(canonicalJson({ '10': 1, '9': 2, é: 'é"\n' }), '{"10":1,"9":2,"é":"é\\"\\n"}')
  t.equal(canonicalJson([undefined, 1]), '[,1]')
})
