// The binary's test clock, set the moment /ready answers, reaches the job worker threads: a paid
// booking is confirmed (the charge job is due at the set instant, and the relay thread judges
// due-ness by its own clock). Before, /ready answered before the threads listened for the clock:
// the relay kept the real time and the booking stayed pending_payment.
import { afterAll, describe, expect, test } from "bun:test";
import { api, freshPostgresDatabase, postgresEnv, runCleanups, start, tempDir } from "../support/binary";
import { databaseUrl, redisUrl, requireServices } from "../support/services";

afterAll(runCleanups);

describe.if(Boolean(databaseUrl && redisUrl) || requireServices)("the test clock in the binary", () => {
  test("set right after /ready, it reaches the worker threads: a paid booking is confirmed", async () => {
    const env = postgresEnv(await freshPostgresDatabase(), redisUrl, { TEST_CLOCK: "1", WORKER_THREADS: "2" });
    const server = await start(env, tempDir());
    // A year ahead of the real time: by the real time, nothing due then is due.
    const now = new Date(Date.now() + 365 * 86_400_000);
    expect((await api(server.url, "POST", "/_test/clock", { now: now.toISOString() })).status).toBe(200);

    const user = async (email: string) => {
      const password = "a long enough password";
      const registered = await api(server.url, "POST", "/auth/register", { email, password, name: "Clock" });
      expect(registered.status).toBe(201);
      return registered.body.accessToken as string;
    };
    const host = await user("clock-host@example.com");
    expect((await api(server.url, "POST", "/users/me/host", {}, host)).status).toBe(200);
    const listing = await api(
      server.url,
      "POST",
      "/properties",
      {
        title: "Sunny loft by the river",
        description: "Two rooms, a balcony and a view of the river.",
        propertyType: "apartment",
        address: { line1: "Rua Augusta 10", city: "Lisbon", postalCode: "1100-053", country: "PT" },
        location: { lat: 38.7107, lng: -9.1366 },
        pricePerNight: 12_000,
        cleaningFee: 3_000,
        currency: "EUR",
        maxGuests: 4,
        bedrooms: 2,
        beds: 2,
        bathrooms: 1.5,
        minNights: 1,
        maxNights: 30,
        cancellationPolicy: "moderate",
      },
      host,
    );
    expect(listing.status).toBe(201);
    const guest = await user("clock-guest@example.com");
    const day = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString().slice(0, 10);
    const booking = await api(
      server.url,
      "POST",
      "/bookings",
      { propertyId: listing.body.id, checkIn: day(10), checkOut: day(12), guests: 2 },
      guest,
    );
    expect(booking.status).toBe(201);
    const paid = await fetch(`${server.url}/api/v1/bookings/${booking.body.id}/payments`, {
      method: "POST",
      headers: { authorization: `Bearer ${guest}`, "content-type": "application/json", "idempotency-key": "clock-1" },
      body: JSON.stringify({ paymentMethod: "pm_card_visa" }),
    });
    expect(paid.status).toBe(202);

    const deadline = Date.now() + 15_000;
    let status = "";
    while (Date.now() < deadline && status !== "confirmed") {
      status = (await api(server.url, "GET", `/bookings/${booking.body.id}`, undefined, guest)).body.status as string;
      if (status !== "confirmed") await Bun.sleep(100);
    }
    expect(status).toBe("confirmed");
    expect(await server.stop()).toBe(0);
  }, 60_000);
});
