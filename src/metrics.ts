import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * Prometheus metrics: request rates and latencies by route, command outcomes, concurrency
 * conflicts (the hot programme stream is the known contention point), and projection lag.
 */
export interface Metrics {
  readonly contentType: string
  observeRequest(method: string, route: string, status: number, durationMs: number): void
  countCommand(command: string, outcome: string): void
  render(): Promise<string>
}

export interface MetricSources {
  /** Conflicts retried and commands that ran out of attempts, from the command handler. */
  readonly conflicts: () => { conflicts: number; exhausted: number }
  readonly headPosition: () => number
  readonly projectionPosition: () => number
}

export const createMetrics = (sources: MetricSources): Metrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const requests = new Histogram({
    name: 'ledger_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  })
  const commands = new Counter({
    name: 'ledger_commands_total',
    help: 'Commands by type and outcome (accepted, replayed, rejected code, conflict)',
    labelNames: ['command', 'outcome'],
    registers: [registry],
  })
  new Gauge({
    name: 'ledger_concurrency_conflicts_total',
    help: 'Appends retried after a concurrency conflict, and commands out of attempts',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const stats = sources.conflicts()
      this.set({ kind: 'retried' }, stats.conflicts)
      this.set({ kind: 'exhausted' }, stats.exhausted)
    },
  })
  new Gauge({
    name: 'ledger_projection_lag_events',
    help: 'Events recorded in the store and not yet applied to the read models',
    registers: [registry],
    collect() {
      this.set(Math.max(0, sources.headPosition() - sources.projectionPosition()))
    },
  })
  return {
    contentType: registry.contentType,
    observeRequest: (method, route, status, durationMs) =>
      requests.observe({ method, route, status: String(status) }, durationMs / 1000),
    countCommand: (command, outcome) => commands.inc({ command, outcome }),
    render: () => registry.metrics(),
  }
}
