/**
 * The generator's agenda: what happens next in the season, earliest first. Entries at the same
 * instant come out in the order they were added, so the season does not depend on how a heap
 * breaks ties.
 */
export class Agenda<T> {
  private readonly heap: { atMs: number; order: number; item: T }[] = []
  private added = 0

  get size(): number {
    return this.heap.length
  }

  add(atMs: number, item: T): void {
    this.heap.push({ atMs, order: this.added, item })
    this.added += 1
    this.siftUp(this.heap.length - 1)
  }

  /** The earliest entry with its instant, or undefined when nothing is left. */
  next(): { atMs: number; item: T } | undefined {
    const top = this.heap[0]
    const last = this.heap.pop()
    if (top === undefined || last === undefined) return undefined
    if (this.heap.length > 0) {
      this.heap[0] = last
      this.siftDown(0)
    }
    return { atMs: top.atMs, item: top.item }
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a]
    const y = this.heap[b]
    if (x === undefined || y === undefined) return false
    return x.atMs < y.atMs || (x.atMs === y.atMs && x.order < y.order)
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a]
    const y = this.heap[b]
    if (x === undefined || y === undefined) return
    this.heap[a] = y
    this.heap[b] = x
  }

  private siftUp(index: number): void {
    let child = index
    while (child > 0) {
      const parent = (child - 1) >> 1
      if (!this.before(child, parent)) return
      this.swap(child, parent)
      child = parent
    }
  }

  private siftDown(index: number): void {
    let parent = index
    for (;;) {
      const left = parent * 2 + 1
      const right = left + 1
      let first = parent
      if (left < this.heap.length && this.before(left, first)) first = left
      if (right < this.heap.length && this.before(right, first)) first = right
      if (first === parent) return
      this.swap(parent, first)
      parent = first
    }
  }
}
