import { readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join, relative } from 'node:path'

/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) as the frames that took the most time, by
 * self time and by total time (self plus callees), with file and line, so a miss of a target
 * can be explained by what bounds it. Usage: `tsx bench/cpu-profile.ts <file.cpuprofile> [n]`.
 *
 * tsx runs TypeScript transpiled to one long line per module, so a frame's position means
 * nothing by itself and arrow functions have no name. Frames are mapped back through the source
 * maps tsx keeps in its cache (`<tmpdir>/tsx-<uid>`), and an unnamed function is shown by the
 * first characters of the source line it starts on.
 */

interface ProfileNode {
  readonly id: number
  readonly callFrame: {
    readonly functionName: string
    readonly url: string
    readonly lineNumber: number
    readonly columnNumber: number
  }
  readonly children?: readonly number[]
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

export interface FrameTime {
  readonly frame: string
  readonly selfMs: number
  readonly totalMs: number
}

/** Frames by self and total time; recursion is counted once in a frame's total. */
export const summariseProfile = (profile: CpuProfile): FrameTime[] => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parentOf.set(child, node.id)
  }

  const selfMsById = new Map<number, number>()
  profile.samples.forEach((id, index) => {
    selfMsById.set(id, (selfMsById.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000)
  })

  const frames = new Map<string, { selfMs: number; totalMs: number }>()
  const entry = (frame: string) => {
    let value = frames.get(frame)
    if (value === undefined) frames.set(frame, (value = { selfMs: 0, totalMs: 0 }))
    return value
  }
  for (const [id, ms] of selfMsById) {
    entry(frameOf(byId.get(id) as ProfileNode)).selfMs += ms
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = frameOf(byId.get(at) as ProfileNode)
      if (seen.has(frame)) continue
      seen.add(frame)
      entry(frame).totalMs += ms
    }
  }
  return [...frames].map(([frame, times]) => ({ frame, ...times }))
}

const frameOf = (node: ProfileNode): string => {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame
  const path = url.replace(/^file:\/\//, '')
  const original = path === '' ? undefined : sourceMaps().get(path)?.(lineNumber, columnNumber)
  const line = original === undefined ? lineNumber : original.line
  const name = functionName || original?.text || '(anonymous)'
  return `${name} ${path === '' ? '' : `${relative(process.cwd(), path)}:${line + 1}`}`.trim()
}

/** From a generated position (0-based line and column) to the original line and its text. */
type Resolver = (line: number, column: number) => { line: number; text: string } | undefined

let resolvers: Map<string, Resolver> | undefined

/**
 * A resolver per source file from tsx's cache. A file transpiled several times has several
 * entries; the one whose embedded source is the file as it is now is the one that ran.
 */
const sourceMaps = (): Map<string, Resolver> => {
  if (resolvers !== undefined) return resolvers
  resolvers = new Map()
  const dir = join(tmpdir(), `tsx-${process.geteuid?.() ?? userInfo().username}`)
  const newestFirst = safeList(dir)
    .map((name) => join(dir, name))
    .filter((path) => safeIsFile(path))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
  const current = new Map<string, string>()
  const matched = new Set<string>()
  for (const entryPath of newestFirst) {
    const map = cachedMap(entryPath)
    const source = map?.sources?.[0]
    if (map === undefined || source === undefined || matched.has(source)) continue
    if (!current.has(source)) current.set(source, safeRead(source) ?? '')
    const content = map.sourcesContent?.[0]
    const isCurrent = content === current.get(source)
    if (isCurrent) matched.add(source)
    if (isCurrent || !resolvers.has(source)) {
      resolvers.set(source, resolverOf(map.mappings, content ?? current.get(source) ?? ''))
    }
  }
  return resolvers
}

interface SourceMap {
  readonly sources?: readonly string[]
  readonly sourcesContent?: readonly string[]
  readonly mappings: string
}

const cachedMap = (path: string): SourceMap | undefined => {
  try {
    const entry = JSON.parse(readFileSync(path, 'utf8')) as { map?: SourceMap }
    return typeof entry.map?.mappings === 'string' ? entry.map : undefined
  } catch {
    return undefined
  }
}

const safeList = (dir: string): string[] => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

const safeIsFile = (path: string): boolean => {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

const safeRead = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

const base64Digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Decodes the base64 VLQ fields of one source map segment. */
const decodeSegment = (segment: string): number[] => {
  const fields: number[] = []
  let value = 0
  let shift = 0
  for (const char of segment) {
    const digit = base64Digits.indexOf(char)
    value += (digit & 31) << shift
    if ((digit & 32) !== 0) {
      shift += 5
      continue
    }
    fields.push(value & 1 ? -(value >>> 1) : value >>> 1)
    value = 0
    shift = 0
  }
  return fields
}

/** Generated lines as sorted [column, original line] pairs, looked up by the last column <=. */
const resolverOf = (mappings: string, content: string): Resolver => {
  const lines: [number, number][][] = []
  let sourceLine = 0
  for (const generated of mappings.split(';')) {
    const segments: [number, number][] = []
    let column = 0
    for (const segment of generated.split(',')) {
      if (segment === '') continue
      const fields = decodeSegment(segment)
      column += fields[0] ?? 0
      if (fields.length >= 4) {
        sourceLine += fields[2] ?? 0
        segments.push([column, sourceLine])
      }
    }
    lines.push(segments)
  }
  const sourceLines = content.split('\n')
  return (line, column) => {
    const segments = lines[line] ?? []
    let found: number | undefined
    for (const [segmentColumn, original] of segments) {
      if (segmentColumn > column) break
      found = original
    }
    if (found === undefined) return undefined
    return { line: found, text: (sourceLines[found] ?? '').trim().slice(0, 60) }
  }
}

const table = (title: string, rows: readonly FrameTime[], wholeMs: number): string =>
  [
    title,
    ...rows.map(
      (row) =>
        `${row.selfMs.toFixed(0).padStart(8)} ms self ` +
        `${row.totalMs.toFixed(0).padStart(8)} ms total ` +
        `${((100 * row.totalMs) / wholeMs).toFixed(1).padStart(5)} %  ${row.frame}`,
    ),
  ].join('\n')

if (require.main === module) {
  const [path, countText] = process.argv.slice(2)
  if (path === undefined) {
    process.stderr.write('usage: tsx bench/cpu-profile.ts <file.cpuprofile> [frames]\n')
    process.exit(2)
  }
  const count = Number.isSafeInteger(Number(countText)) ? Number(countText) : 25
  const frames = summariseProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile)
  const wholeMs = frames.reduce((sum, frame) => sum + frame.selfMs, 0)
  const bySelf = [...frames].sort((a, b) => b.selfMs - a.selfMs).slice(0, count)
  const byTotal = [...frames].sort((a, b) => b.totalMs - a.totalMs).slice(0, count)
  const title = `by self time (of ${wholeMs.toFixed(0)} ms)`
  process.stdout.write(`${table(title, bySelf, wholeMs)}\n\n`)
  process.stdout.write(`${table('by total time', byTotal, wholeMs)}\n`)
}
