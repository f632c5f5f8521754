import { dirname, extname, join } from 'node:path'

/**
 * The source of a worker thread that runs the module `name` beside the calling module, for
 * `new Worker(source, { eval: true })`. The service, the CLI and the tests all run TypeScript
 * through tsx, and a worker does not inherit the loader by itself: where the calling module is
 * TypeScript, the thread loads tsx first. `callerFile` is the caller's `__filename`.
 */
export const threadSource = (name: string, callerFile: string): string => {
  const extension = extname(callerFile)
  const entry = JSON.stringify(join(dirname(callerFile), `${name}${extension}`))
  const loader =
    extension === '.ts' ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : ''
  return `${loader}require(${entry})`
}
