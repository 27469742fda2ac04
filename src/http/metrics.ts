// Prometheus metrics: HTTP requests by route and status, and the job queue.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { JobEvent } from "../jobs/execute";

export class Metrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: "stayhub_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: "stayhub_http_request_duration_seconds",
    help: "HTTP request latency by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
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

  private probe: (() => Promise<Record<string, number>>) | null = null;

  /** The job runner tells how to count its queue; read at every scrape. */
  setQueueProbe(probe: () => Promise<Record<string, number>>): void {
    this.probe = probe;
  }

  async render(): Promise<string> {
    if (this.probe) {
      const states = await this.probe().catch(() => ({}) as Record<string, number>);
      for (const [state, n] of Object.entries(states)) this.queue.set({ state }, n);
    }
    return this.registry.metrics();
  }

  request(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  job(e: JobEvent): void {
    this.jobs.inc({ type: e.type, outcome: e.outcome });
    this.jobDuration.observe({ type: e.type }, e.seconds);
    if (e.delayMs !== undefined) this.jobDelay.observe(Math.max(0, e.delayMs) / 1000);
  }
}
