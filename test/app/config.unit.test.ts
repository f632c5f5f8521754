import { spawnSync } from 'node:child_process'
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config'
import { redactedPaths } from '../../src/logging'

t.test('defaults', async (t) => {
  const config = loadConfig({})
  t.equal(config.port, 3000)
  t.equal(config.storeUrl, 'sqlite:./data/ledger.db')
  t.equal(config.projectionsPath, './data/ledger.projections.db')
})

t.test('every bad value is named, all at once', async (t) => {
  const error = t.throws(() =>
    loadConfig({
      PORT: 'eighty',
      LEDGER_STORE: 'postgres://x',
      LOG_LEVEL: 'loud',
      LEDGER_API_KEYS_FILE: '/nonexistent/keys.json',
      LEDGER_PROCESSOR_SECRET: 'short',
    }),
  ) as unknown as ConfigError
  t.ok(error instanceof ConfigError)
  const text = error.problems.join('\n')
  for (const name of [
    'PORT',
    'LEDGER_STORE',
    'LOG_LEVEL',
    'LEDGER_API_KEYS_FILE',
    'LEDGER_PROCESSOR_SECRET',
  ]) {
    t.match(text, name)
  }
})

t.test('a bad configuration stops the service at once with what to fix', async (t) => {
  const result = spawnSync('npx', ['tsx', 'src/main.ts'], {
    env: { ...process.env, LEDGER_STORE: 'mysql://nowhere', PORT: '-1' },
    encoding: 'utf8',
    timeout: 30_000,
  })
  t.equal(result.status, 2)
  t.match(result.stderr, /LEDGER_STORE=mysql:\/\/nowhere: expected sqlite:<path>/)
  t.match(result.stderr, /PORT=-1/)
})

t.test('logs redact keys, signatures and customers', async (t) => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  const logger = pino({ redact: { paths: redactedPaths, censor: '[redacted]' } }, sink)
  logger.info(
    {
      req: { headers: { authorization: 'Bearer secret-key', 'ledger-signature': 't=1,v1=ab' } },
      customerId: 'alice',
    },
    'request',
  )
  const line = lines.join('')
  t.notMatch(line, /secret-key|v1=ab|alice/)
  t.match(line, /\[redacted\]/)
})
