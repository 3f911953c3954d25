/** Reading one series out of a bot's metrics, for tests that check what moved. */
import type { MetricValue } from 'prom-client';
import type { Metrics } from '../../src/platform/metrics.js';

/**
 * The value of `name` (a counter or gauge, or a histogram's `_count`/`_sum`) summed over the series
 * whose labels include `labels`; 0 when there is none.
 */
export async function metricValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const family = name.replace(/_(count|sum|bucket)$/, '');
  const metric = metrics.registry.getSingleMetric(family);
  if (metric === undefined) throw new Error(`no metric named ${family}`);
  const { values } = (await metric.get()) as { values: (MetricValue<string> & { metricName?: string })[] };
  return values
    .filter((value) => (value.metricName ?? family) === name)
    .filter((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}

/** The values of several series at once, by a name of the caller's choice. */
export async function metricValues<K extends string>(
  metrics: Metrics,
  series: Record<K, [name: string, labels?: Record<string, string>]>,
): Promise<Record<K, number>> {
  const entries = await Promise.all(
    Object.entries(series).map(async ([key, spec]) => {
      const [name, labels] = spec as [string, Record<string, string> | undefined];
      return [key, await metricValue(metrics, name, labels)] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<K, number>;
}
