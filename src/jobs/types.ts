// What travels through the queue, and what a handler gets to work with.

import type { Cache } from "../cache/cache";
import type { Config } from "../config";
import type { Db } from "../db/client";
import type { Clock } from "../lib/clock";
import type { Logger } from "../lib/log";
import type { Mailer } from "../modules/notifications/mailer";
import type { PaymentProvider } from "../modules/payments/provider";
import type { Handlers } from "./registry";

export interface Job {
  /** The outbox row's id: stable across deliveries and retries (dedupe by it). */
  id: string;
  type: string;
  payload: Record<string, unknown>;
  /** 1 on the first run. */
  attempt: number;
  /** Wall-clock ms when the outbox row was committed, for delay measurements. */
  enqueuedAt: number;
}

export interface JobDeps {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  cache: Cache;
  mailer: Mailer;
  payments: PaymentProvider;
  /** Job type → handler, registered by the composition root (src/job-handlers.ts). */
  handlers: Handlers;
}

/** Exponential backoff with jitter: base, 2×base, 4×base … (each ×0.5–1.5), capped at 5 min. */
export function backoffMs(attempt: number, baseMs = 500): number {
  const exp = Math.min(baseMs * 2 ** (attempt - 1), 300_000);
  return Math.round(exp * (0.5 + Math.random()));
}
