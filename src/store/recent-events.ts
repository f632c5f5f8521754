import type { RecordedEvent } from './port'

/**
 * The last events this store wrote, as a read of the log would return them, for the readers of
 * the log's tail. The projections' subscription and the sealer each read every event shortly
 * after its commit (the payables fold too, when a payout run is near); reading the same rows
 * again and parsing their JSON each time was 8 % of the busy time of the thread that serves
 * requests. Now each event is parsed once, when its commit returns, and the readers share it.
 *
 * The events kept are consecutive positions of the log and nothing else: an event is kept only
 * when it follows the last one kept. A gap (another process or another store object wrote in
 * between) starts the window afresh, so a position inside the window is always the event the
 * file holds there, and anything outside it is read from the file as before. The events are
 * shared between readers, which the port's readonly types already forbid to change.
 */
export class RecentEvents {
  /** Consecutive positions, oldest first; up to twice `keptMax` between two trims. */
  private events: RecordedEvent[] = []

  constructor(private readonly keptMax: number) {}

  /** Keeps the events of one call, in position order, as they were just committed. */
  add(events: readonly RecordedEvent[]): void {
    const first = events[0]
    if (first === undefined) return
    const last = this.events[this.events.length - 1]
    if (last === undefined || first.position !== last.position + 1) this.events = []
    for (const event of events) this.events.push(event)
    if (this.events.length >= this.keptMax * 2) this.events = this.events.slice(-this.keptMax)
  }

  /**
   * Up to `limit` events right after `afterPosition`, or undefined when the window does not
   * hold the next one, in which case the caller reads the file.
   */
  after(afterPosition: number, limit: number): RecordedEvent[] | undefined {
    const first = this.events[0]
    if (first === undefined) return undefined
    const start = afterPosition + 1 - first.position
    if (start < 0 || start >= this.events.length) return undefined
    return this.events.slice(start, start + limit)
  }
}
