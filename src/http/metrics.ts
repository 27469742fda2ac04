// Prometheus metrics: HTTP requests by route and status, the job queue, payment reconciliation,
// the search cache's hits and misses.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { JobEvent } from "../jobs/execute";

export class Metrics {
  readonly registry = new Registry();
  // Counted by hand (see HttpSeries): prom-client's per-sample label hashing cost more than a cached read.
  private readonly http = new HttpSeries();
  private readonly jobs = new Counter({
    name: "stayhub_jobs_total",
    help: "Job runs by type and outcome (done, retry, dead)",
    labelNames: ["type", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: "stayhub_job_duration_seconds",
    help: "Handler run time by job type",
    labelNames: ["type"] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  private readonly jobDelay = new Histogram({
    name: "stayhub_job_start_delay_seconds",
    help: "From outbox commit to handler start (first attempts)",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly queue = new Gauge({
    name: "stayhub_job_queue",
    help: "Jobs by state: waiting (outbox, not yet relayed), stream, pending (delivered, unacknowledged), delayed (retries), dead",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });

  private readonly mismatches = new Gauge({
    name: "stayhub_payment_mismatches",
    help: "Mismatches between our payments and the provider's ledger found by the last reconciliation",
    registers: [this.registry],
  });

  /** Searches answered from the cache or read, by kind (dated: with checkIn/checkOut). Counted by hand. */
  private readonly searches = { dated: { hit: 0, miss: 0 }, undated: { hit: 0, miss: 0 } };

  private probe: (() => Promise<Record<string, number>>) | null = null;
  private mismatchProbe: (() => Promise<number>) | null = null;

  /** The payments module tells how to read the last reconciliation; read at every scrape. */
  setMismatchProbe(probe: () => Promise<number>): void {
    this.mismatchProbe = probe;
  }

  /** The job runner tells how to count its queue; read at every scrape. */
  setQueueProbe(probe: () => Promise<Record<string, number>>): void {
    this.probe = probe;
  }

  async render(): Promise<string> {
    if (this.probe) {
      const states = await this.probe().catch(() => ({}) as Record<string, number>);
      for (const [state, n] of Object.entries(states)) this.queue.set({ state }, n);
    }
    if (this.mismatchProbe) {
      const n = await this.mismatchProbe().catch(() => null);
      if (n !== null) this.mismatches.set(n);
    }
    return (await this.registry.metrics()) + this.http.render() + this.renderSearches();
  }

  search(dated: boolean, hit: boolean): void {
    const s = dated ? this.searches.dated : this.searches.undated;
    if (hit) s.hit++;
    else s.miss++;
  }

  private renderSearches(): string {
    const lines = [
      "# HELP stayhub_search_cache_total Searches answered from the cache (hit) or from the database (miss), by kind",
      "# TYPE stayhub_search_cache_total counter",
    ];
    for (const [kind, s] of Object.entries(this.searches))
      for (const [result, n] of Object.entries(s))
        lines.push(`stayhub_search_cache_total{kind="${kind}",result="${result}"} ${n}`);
    return `\n${lines.join("\n")}\n`;
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.http.record(method, route, status, seconds);
  }

  job(e: JobEvent): void {
    this.jobs.inc({ type: e.type, outcome: e.outcome });
    this.jobDuration.observe({ type: e.type }, e.seconds);
    if (e.delayMs !== undefined) this.jobDelay.observe(Math.max(0, e.delayMs) / 1000);
  }
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const labelValue = (v: string) => v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

interface Series {
  labels: string;
  count: number;
  sum: number;
  /** Non-cumulative: buckets[i] counts samples in (HTTP_BUCKETS[i-1], HTTP_BUCKETS[i]]; the last is +Inf. */
  buckets: Float64Array;
}

/**
 * stayhub_http_requests_total and stayhub_http_request_duration_seconds in the Prometheus text
 * format: one map lookup and a few additions per request, the text built only when scraped.
 */
class HttpSeries {
  private series = new Map<string, Series>();

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        labels: `method="${labelValue(method)}",route="${labelValue(route)}",status="${status}"`,
        count: 0,
        sum: 0,
        buckets: new Float64Array(HTTP_BUCKETS.length + 1),
      };
      this.series.set(key, s);
    }
    s.count++;
    s.sum += seconds;
    let i = 0;
    while (i < HTTP_BUCKETS.length && seconds > (HTTP_BUCKETS[i] as number)) i++;
    (s.buckets[i] as number)++;
  }

  render(): string {
    const counts = [
      "# HELP stayhub_http_requests_total HTTP requests by method, route and status",
      "# TYPE stayhub_http_requests_total counter",
    ];
    const durations = [
      "# HELP stayhub_http_request_duration_seconds HTTP request latency by method, route and status",
      "# TYPE stayhub_http_request_duration_seconds histogram",
    ];
    for (const s of this.series.values()) {
      counts.push(`stayhub_http_requests_total{${s.labels}} ${s.count}`);
      let cumulative = 0;
      for (const [i, le] of [...HTTP_BUCKETS.map(String), "+Inf"].entries()) {
        cumulative += s.buckets[i] as number;
        durations.push(`stayhub_http_request_duration_seconds_bucket{le="${le}",${s.labels}} ${cumulative}`);
      }
      durations.push(`stayhub_http_request_duration_seconds_sum{${s.labels}} ${s.sum}`);
      durations.push(`stayhub_http_request_duration_seconds_count{${s.labels}} ${s.count}`);
    }
    return `\n${counts.join("\n")}\n\n${durations.join("\n")}\n`;
  }
}
