// Helpers for tests that book stays.
import { afterAll, beforeEach } from "bun:test";
import type { Database } from "../../src/db/client";
import { runLocalOnce } from "../../src/jobs/local";
import { scheduleDue } from "../../src/jobs/scheduler";
import type { Mail } from "../../src/modules/notifications/mailer";
import type { Answer, Call, Registered, TestApp } from "./app";

export type BookingBody = {
  id: string;
  propertyId: string;
  guestId: string;
  checkIn: string;
  checkOut: string;
  guests: number;
  status: string;
  price: {
    nights: number;
    nightlyTotal: number;
    discount: { kind: "weekly" | "monthly"; percent: number; amount: number } | null;
    extraGuestFee: number;
    cleaningFee: number;
    serviceFee: number;
    taxes: { name: string; amount: number }[];
    total: number;
    hostPayout: number;
    currency: string;
  };
  expiresAt: string;
  cancellation?: { cancelledAt: string; by: string; reason?: string; refundAmount: number };
  createdAt: string;
  updatedAt: string;
  code?: string;
  errors?: { path: string; message: string }[];
};

export function book(
  call: Call,
  guest: Registered,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Answer<BookingBody>> {
  return call<BookingBody>("POST", "/api/v1/bookings", {
    token: guest.accessToken,
    body: { guests: 1, ...body },
    headers,
  });
}

export async function setClock(call: Call, now: string): Promise<void> {
  const res = await call("POST", "/api/v1/_test/clock", { body: { now } });
  if (res.status !== 200) throw new Error(`clock: ${res.status} ${res.text}`);
}

/** Runs every due job of the outbox in this process until none is left. */
export async function drainJobs(t: TestApp): Promise<void> {
  while ((await runLocalOnce(t.deps)) > 0) {}
}

/**
 * What the running service does by its own clock: enqueues the recurring jobs of the current
 * test-clock slot (the bookings sweep expires unpaid holds) and runs every due job.
 */
export async function drainDue(t: TestApp): Promise<void> {
  await scheduleDue(t.deps);
  await drainJobs(t);
}

/** Pairs of stays of one property that both hold nights and overlap: asked of the database itself. */
export async function overlaps(database: Database): Promise<number> {
  const rows = await database.raw.query(
    `select count(*)::int as n from bookings a join bookings b
       on a.property_id = b.property_id and a.id < b.id
      and daterange(a.check_in, a.check_out) && daterange(b.check_in, b.check_out)
    where a.status in ('pending_payment', 'requested', 'confirmed') and b.status in ('pending_payment', 'requested', 'confirmed')`,
  );
  return Number((rows as { n: number }[])[0]?.n ?? -1);
}

/**
 * The hooks of a file that runs on the test clock: set to `now` before each test; after all, the
 * clock reset and the app closed. `app` is read when the hooks run (the app starts in beforeAll).
 */
export function onTestClock(app: () => TestApp | undefined, now: string): void {
  beforeEach(() => setClock((app() as TestApp).call, now));
  afterAll(async () => {
    const t = app();
    await t?.call("DELETE", "/api/v1/_test/clock");
    await t?.close();
  });
}

/** Replaces the app's mailer with a list the test reads. */
export function captureMail(t: TestApp, into: Mail[] = []): Mail[] {
  t.deps.mailer = { send: async (m) => void into.push(m) };
  return into;
}
