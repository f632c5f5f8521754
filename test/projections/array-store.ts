import type {
  AppendResult,
  EventStore,
  RecordedEvent,
  Subscription,
  SubscriptionHandler,
} from '../../src/store/port'

/**
 * A read-only event store over a prepared log, delivering subscriptions in pages of a chosen
 * size: enough of the port for the runner and rebuilds, with the page boundaries under the
 * test's control.
 */
export class ArrayEventStore implements EventStore {
  constructor(
    private readonly log: readonly RecordedEvent[],
    private readonly pageSizes: readonly number[] = [1_000],
  ) {}

  appendToStreams(): Promise<AppendResult> {
    return Promise.reject(new Error('read-only test store'))
  }

  readStream(streamId: string): Promise<readonly RecordedEvent[]> {
    return Promise.resolve(this.log.filter((e) => e.streamId === streamId))
  }

  readAll(afterPosition: number, limit: number): Promise<readonly RecordedEvent[]> {
    return Promise.resolve(this.log.filter((e) => e.position > afterPosition).slice(0, limit))
  }

  headPosition(): Promise<number> {
    return Promise.resolve(this.log[this.log.length - 1]?.position ?? 0)
  }

  subscribeToAll(afterPosition: number, handler: SubscriptionHandler): Subscription {
    let stopped = false
    const run = async () => {
      let after = afterPosition
      for (let page = 0; !stopped; page++) {
        const size = this.pageSizes[page % this.pageSizes.length] ?? 1
        const events = await this.readAll(after, size)
        if (events.length === 0) return
        await handler.onEvents(events)
        after = events[events.length - 1]!.position
      }
    }
    const done = run().catch((error: Error) => handler.onError?.(error))
    return {
      stop: async () => {
        stopped = true
        await done
      },
    }
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}
