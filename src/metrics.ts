/** A handful of Prometheus counters and summaries, rendered as text for GET /metrics. */
export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly durations = new Map<string, { count: number; sum: number }>();

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const key = series(name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  observeRequest(route: string, status: number, ms: number): void {
    this.inc('kaizen_http_requests_total', { route, status: String(status) });
    const key = series('kaizen_http_request_duration_seconds', { route });
    const entry = this.durations.get(key) ?? { count: 0, sum: 0 };
    entry.count += 1;
    entry.sum += ms / 1000;
    this.durations.set(key, entry);
  }

  render(): string {
    const lines: string[] = [];
    for (const [key, value] of [...this.counters].sort()) lines.push(`${key} ${value}`);
    for (const [key, { count, sum }] of [...this.durations].sort()) {
      const [name, labels = ''] = key.split(/(?=\{)/);
      lines.push(`${name}_count${labels} ${count}`, `${name}_sum${labels} ${sum.toFixed(6)}`);
    }
    lines.push(`process_resident_memory_bytes ${process.memoryUsage().rss}`);
    lines.push(`process_uptime_seconds ${Math.round(process.uptime())}`);
    return `${lines.join('\n')}\n`;
  }
}

function series(name: string, labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
}
