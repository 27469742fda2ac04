// A worker thread killed after the provider charged and before our commit: the redelivered charge
// job asks the provider again with the same key, gets its first answer back, and the ledger holds
// one charge. Needs the Redis transport with worker threads (as in CI).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startJobs } from "../../src/jobs/runner";
import { STALL_AFTER_CHARGE } from "../../src/modules/payments/simulated";
import { registerUser, startTestApp, type TestApp } from "../support/app";
import { book, setClock } from "../support/bookings";
import { createListing, registerHost } from "../support/properties";
import { databaseUrl, redisUrl } from "../support/services";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    TEST_JOBS: "1",
    JOB_VISIBILITY_TIMEOUT_MS: "1000",
    JOB_BACKOFF_MS: "10",
    WORKER_THREADS: "2",
    PAYMENT_PROVIDER_LATENCY_MS: "0",
  });
  await setClock(t.call, "2031-06-01T09:00:00.000Z");
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

const q = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query<T>(text, params);
const until = async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
};

describe.if(Boolean(redisUrl && databaseUrl))(
  "a charge job whose worker dies between the provider's answer and our commit",
  () => {
    test("is redelivered, gets the provider's first answer, and never charges twice", async () => {
      const host = await registerHost(t.call);
      const guest = await registerUser(t.call);
      const property = await createListing(t.call, host, { pricePerNight: 10_000 });
      const booking = await book(t.call, guest, {
        propertyId: property.id,
        checkIn: "2031-07-01",
        checkOut: "2031-07-03",
      });
      expect(booking.status).toBe(201);

      let paymentId = "";
      const killed: number[] = [];
      const starts: string[] = [];
      const jobs = await startJobs(t.deps, {
        scheduler: false,
        hooks: {
          onStart: (thread, jobId) => {
            void (async () => {
              const [row] = await q<{ type: string }>("select type from outbox where id = $1", [Number(jobId)]);
              if (row?.type !== "payment.charge") return;
              starts.push(jobId);
              if (killed.length) return;
              // The provider has charged (its ledger says so) and the thread stalls before answering: kill it there.
              await until(
                "the provider's charge",
                async () => (await q("select 1 from sim_charges where reference = $1", [paymentId])).length === 1,
              );
              killed.push(thread);
              jobs.pool?.threads[thread]?.terminate();
            })();
          },
        },
      });
      try {
        const paid = await t.call<{ id: string; status: string }>(
          "POST",
          `/api/v1/bookings/${booking.body.id}/payments`,
          {
            token: guest.accessToken,
            body: { paymentMethod: STALL_AFTER_CHARGE },
            headers: { "idempotency-key": "crash-test" },
          },
        );
        expect(paid.status).toBe(202);
        paymentId = paid.body.id;
        await until("the payment to succeed after the redelivery", async () => {
          const [p] = await q<{ status: string }>("select status from payments where id = $1", [paymentId]);
          return p?.status === "succeeded";
        });
        expect(killed.length).toBe(1);
        // Run twice (the killed delivery and the redelivery), charged once.
        expect(new Set(starts).size).toBe(1);
        expect(starts.length).toBeGreaterThanOrEqual(2);
        const charges = await q<{ status: string; amount: number }>(
          "select status, amount from sim_charges where reference = $1",
          [paymentId],
        );
        expect(charges).toEqual([{ status: "succeeded", amount: booking.body.price.total }]);
        const [b] = await q<{ status: string }>("select status from bookings where id = $1", [booking.body.id]);
        expect(b?.status).toBe("confirmed");
      } finally {
        await jobs.stop();
      }
    }, 60_000);
  },
);
