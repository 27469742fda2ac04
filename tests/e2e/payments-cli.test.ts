// Paying through the compiled binary, with its payment commands: `stayhub webhook sign` makes a
// header the server accepts, and `stayhub payments reconcile` exits 0 when our payments match the
// provider's ledger and 1 (a JSON line per mismatch) when they do not.
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { api, BINARY, freshPostgresDatabase, runCleanups, start, tempDir } from "../support/binary";
import { listing } from "../support/properties";
import { databaseUrl, requireServices } from "../support/services";

afterAll(runCleanups);

const SECRET = "whsec_e2e_0123456789abcdef";

async function run(args: string[], env: Record<string, string>, stdin?: string) {
  const proc = Bun.spawn([BINARY, ...args], {
    env,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, stdout, stderr };
}

describe.if(Boolean(databaseUrl) || requireServices)("payments through the binary", () => {
  test("book → pay → confirmed; a signed webhook is applied, a forged one refused; reconcile is clean, then finds a planted mismatch", async () => {
    const { url } = await freshPostgresDatabase();
    const env = {
      DATABASE_URL: url.toString(),
      JWT_SECRET: "e2e-secret-e2e-secret-e2e-secret-e2e",
      DATA_DIR: tempDir(),
      LOG_LEVEL: "warn",
      PAYMENT_WEBHOOK_SECRET: SECRET,
    };
    const running = await start(env, tempDir());
    const register = async (email: string) =>
      (await api(running.url, "POST", "/auth/register", { email, password: "a long enough password", name: "E2E" }))
        .body;
    const host = await register("host@example.com");
    await api(running.url, "POST", "/users/me/host", undefined, host.accessToken);
    const property = await api(
      running.url,
      "POST",
      "/properties",
      listing({ pricePerNight: 9_000, cleaningFee: 1_000 }),
      host.accessToken,
    );
    expect(property.status).toBe(201);
    const guest = await register("guest@example.com");
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    const booking = await api(
      running.url,
      "POST",
      "/bookings",
      { propertyId: property.body.id, checkIn: day(10), checkOut: day(12), guests: 1 },
      guest.accessToken,
    );
    expect(booking.status).toBe(201);

    const missingKey = await api(
      running.url,
      "POST",
      `/bookings/${booking.body.id}/payments`,
      { paymentMethod: "pm_card_visa" },
      guest.accessToken,
    );
    expect(missingKey.status).toBe(422);
    const paid = await fetch(`${running.url}/api/v1/bookings/${booking.body.id}/payments`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${guest.accessToken}`,
        "idempotency-key": "e2e-pay-1",
      },
      body: JSON.stringify({ paymentMethod: "pm_card_visa" }),
    });
    expect(paid.status).toBe(202);
    const payment = (await paid.json()) as { id: string; amount: number };
    expect(payment.amount).toBe(booking.body.price.total);
    const deadline = Date.now() + 15_000;
    let status = "";
    while (Date.now() < deadline && status !== "confirmed") {
      status = (await api(running.url, "GET", `/bookings/${booking.body.id}`, undefined, guest.accessToken)).body
        .status;
      await Bun.sleep(25);
    }
    expect(status).toBe("confirmed");

    const event = JSON.stringify({
      id: "evt_e2e_1",
      type: "charge.dispute_created",
      created: Math.floor(Date.now() / 1000),
      data: { paymentId: payment.id },
    });
    const signed = await run(["webhook", "sign", "--secret", SECRET], { PATH: process.env.PATH ?? "" }, event);
    expect(signed.code).toBe(0);
    const header = signed.stdout.trim();
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const send = (signature: string) =>
      fetch(`${running.url}/api/v1/webhooks/payments`, {
        method: "POST",
        headers: { "content-type": "application/json", "payment-signature": signature },
        body: event,
      });
    const forged = await send(header.replace(/v1=./, (m) => (m.endsWith("0") ? "v1=1" : "v1=0")));
    expect(forged.status).toBe(400);
    const accepted = await send(header);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ received: true, replayed: false, outcome: "applied" });
    expect(
      (await api(running.url, "GET", `/payments/${payment.id}`, undefined, host.accessToken)).body.disputedAt,
    ).toBeString();
    expect((await run(["webhook", "sign"], { PATH: process.env.PATH ?? "" }, event)).code).toBe(2);

    const clean = await run(["payments", "reconcile"], env);
    expect(clean.stderr).toContain("clean");
    expect({ code: clean.code, stdout: clean.stdout }).toEqual({ code: 0, stdout: "" });
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
    await sql`update sim_charges set refunded = 500 where reference = ${payment.id}`;
    await sql.end();
    const dirty = await run(["payments", "reconcile", "--since", day(-1)], env);
    expect(dirty.code).toBe(1);
    const lines = dirty.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; paymentId: string });
    expect(lines).toEqual([expect.objectContaining({ kind: "refund_differs", paymentId: payment.id })]);
    expect((await run(["payments", "reconcile", "--since", "yesterday"], env)).code).toBe(2);
    // The recorded run is what /metrics reports.
    expect(await (await fetch(`${running.url}/metrics`)).text()).toContain("stayhub_payment_mismatches 1");
    expect(await running.stop()).toBe(0);
  }, 90_000);
});
