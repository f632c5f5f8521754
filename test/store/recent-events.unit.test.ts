import t from 'tap'
import type { RecordedEvent } from '../../src/store/port'
import { RecentEvents } from '../../src/store/recent-events'

const at = (...positions: number[]): RecordedEvent[] =>
  positions.map((position) => ({
    position,
    streamId: `voucher-${position}`,
    revision: 0,
    eventId: `e-${position}`,
    type: 'VoucherIssued',
    data: { position },
    metadata: { hash: `h-${position}` } as unknown as RecordedEvent['metadata'],
  }))

const positionsOf = (events: readonly RecordedEvent[] | undefined) =>
  events?.map((event) => event.position)

t.test('serves the events right after a position, up to the limit', async (t) => {
  const recent = new RecentEvents(100)
  recent.add(at(4, 5))
  recent.add(at(6, 7, 8))
  t.same(positionsOf(recent.after(3, 10)), [4, 5, 6, 7, 8])
  t.same(positionsOf(recent.after(5, 2)), [6, 7])
  t.equal(recent.after(2, 10), undefined, 'the next event is before the window: read the file')
  t.equal(recent.after(8, 10), undefined, 'nothing kept after the last: read the file')
  t.equal(recent.after(20, 10), undefined)
})

t.test('a gap in positions starts the window afresh', async (t) => {
  const recent = new RecentEvents(100)
  recent.add(at(1, 2, 3))
  recent.add(at(5, 6))
  t.equal(recent.after(0, 10), undefined, 'position 4 was written by someone else')
  t.equal(recent.after(3, 10), undefined)
  t.same(positionsOf(recent.after(4, 10)), [5, 6])
  recent.add(at(2))
  t.same(positionsOf(recent.after(1, 10)), [2], 'an older position also starts afresh')
  t.equal(recent.after(4, 10), undefined)
})

t.test('keeps at most twice its size, then the newest', async (t) => {
  const recent = new RecentEvents(3)
  for (let position = 1; position <= 5; position += 1) recent.add(at(position))
  t.same(positionsOf(recent.after(0, 10)), [1, 2, 3, 4, 5])
  recent.add(at(6))
  t.equal(recent.after(0, 10), undefined)
  t.equal(recent.after(2, 10), undefined)
  t.same(positionsOf(recent.after(3, 10)), [4, 5, 6])
})
