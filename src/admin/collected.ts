/**
 * prom-client counters and gauges filled at scrape time from counters the proxy keeps anyway, so the
 * request path never touches prom-client.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type Labels<T extends string> = Record<T, string>;
export type Emit<T extends string> = (labels: Labels<T>, value: number) => void;

/** A counter (or gauge) whose values are copied from existing counters at scrape time. */
export function collected<T extends string>(registry: Registry, kind: 'counter' | 'gauge', name: string, help: string, labelNames: readonly T[], fill: (emit: Emit<T>) => void): void {
  if (kind === 'counter') {
    new Counter<T>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Counter<T>) {
        this.reset();
        fill((labels, v) => this.inc(labels as Partial<Record<T, string>>, v));
      },
    });
  } else {
    new Gauge<T>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect(this: Gauge<T>) {
        this.reset();
        fill((labels, v) => this.set(labels as Partial<Record<T, string>>, v));
      },
    });
  }
}
