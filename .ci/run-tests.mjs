// Runs every test with tap, passes its output through, and ends with the plain
// "N passed, N failed, N skipped" line that CI reads, keeping tap's exit code.
import { spawn } from 'node:child_process'

const tap = spawn('npx', ['tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
let tail = ''
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString()).slice(-4096)
})
tap.on('close', (code) => {
  const summary = [...tail.matchAll(/# (\{ total: .*\})/g)].pop()?.[1] ?? ''
  const count = (name) => Number(summary.match(new RegExp(`${name}: (\\d+)`))?.[1] ?? 0)
  const failed = count('fail')
  const passed = count('pass')
  const skipped = count('skip') + count('todo')
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
  process.exit(code ?? 1)
})
