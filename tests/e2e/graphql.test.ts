// GraphQL through the compiled binary over real HTTP: the native POST route (its body rules, its
// cache), and bookingUpdated across two processes — paid through one, watched through the other.
import { afterAll, describe, expect, test } from "bun:test";
import { api, freshPostgresDatabase, postgresEnv, runCleanups, start, tempDir } from "../support/binary";
import { databaseUrl, redisUrl, requireServices } from "../support/services";

afterAll(runCleanups);

const gqlPost = (base: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

describe.if(Boolean(databaseUrl) || requireServices)("GraphQL, two instances on one PostgreSQL", () => {
  test("paid on one instance, the guest watching on the other sees confirmed; the native route keeps the HTTP rules", async () => {
    const env = postgresEnv(await freshPostgresDatabase(), redisUrl, { PAYMENT_PROVIDER_LATENCY_MS: "0" });
    const [a, b] = await Promise.all([start(env, tempDir()), start(env, tempDir())]);
    const password = "a long enough password";
    const host = (await api(a.url, "POST", "/auth/register", { email: "host@example.com", password, name: "Host" }))
      .body;
    await api(a.url, "POST", "/users/me/host", undefined, host.accessToken);
    const listing = await api(
      a.url,
      "POST",
      "/properties",
      {
        title: "Two-instance flat",
        propertyType: "apartment",
        address: { line1: "Main St 1", city: "Lyon", country: "FR" },
        location: { lat: 45.76, lng: 4.83 },
        pricePerNight: 10_000,
        currency: "EUR",
        maxGuests: 2,
      },
      host.accessToken,
    );
    expect(listing.status).toBe(201);
    const guest = (await api(a.url, "POST", "/auth/register", { email: "guest@example.com", password, name: "Guest" }))
      .body;
    const checkIn = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const checkOut = new Date(Date.now() + 32 * 86_400_000).toISOString().slice(0, 10);
    const booking = await api(
      a.url,
      "POST",
      "/bookings",
      { propertyId: listing.body.id, checkIn, checkOut, guests: 1 },
      guest.accessToken,
    );
    expect(booking.status).toBe(201);

    // Watching on B.
    const res = await gqlPost(
      b.url,
      JSON.stringify({
        query: "subscription($id: ID!) { bookingUpdated(id: $id) { status } }",
        variables: { id: booking.body.id },
      }),
      {
        accept: "text/event-stream",
        authorization: `Bearer ${guest.accessToken}`,
      },
    );
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const until = async (needle: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (!text.includes(needle)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${needle} within ${ms} ms; got ${text}`);
        const chunk = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)]);
        if (!chunk || chunk.done) throw new Error(`stream ended before ${needle}: ${text}`);
        text += decoder.decode(chunk.value, { stream: true });
      }
    };
    await until("pending_payment", 5_000);
    // Paid on A; A's job workers charge it; B hears the commit.
    const paid = await fetch(`${a.url}/api/v1/bookings/${booking.body.id}/payments`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${guest.accessToken}`,
        "idempotency-key": "e2e-pay",
      },
      body: JSON.stringify({ paymentMethod: "pm_card_visa" }),
    });
    expect(paid.status).toBe(202);
    await until("confirmed", 15_000);
    await reader.cancel();

    // The native POST route: request ids, problem+json for a broken body, 413 past 1 MiB, and an
    // anonymous search answered twice alike (the second from the cache).
    const search = JSON.stringify({
      query: '{ properties(filter: { city: "Lyon" }) { edges { node { title host { name } } } } }',
    });
    const first = await gqlPost(a.url, search, { "x-request-id": "gql-e2e-1" });
    expect(first.headers.get("x-request-id")).toBe("gql-e2e-1");
    const firstText = await first.text();
    expect(firstText).toContain("Two-instance flat");
    expect(await (await gqlPost(a.url, search)).text()).toBe(firstText);
    const broken = await gqlPost(a.url, "{");
    expect(broken.status).toBe(400);
    expect(broken.headers.get("content-type")).toContain("application/problem+json");
    expect(((await broken.json()) as { code: string }).code).toBe("invalid_json");
    const huge = await gqlPost(a.url, JSON.stringify({ query: `{ me { id } } #${"x".repeat(1024 * 1024)}` }));
    expect(huge.status).toBe(413);
    const me = await gqlPost(a.url, JSON.stringify({ query: "{ me { email } }" }), {
      authorization: `Bearer ${guest.accessToken}`,
    });
    expect(await me.json()).toEqual({ data: { me: { email: "guest@example.com" } } });
    expect(await a.stop()).toBe(0);

    // SIGTERM with a live subscription open: its stream completes and the process exits at once.
    const open = await gqlPost(
      b.url,
      JSON.stringify({
        query: "subscription($id: ID!) { bookingUpdated(id: $id) { status } }",
        variables: { id: booking.body.id },
      }),
      {
        accept: "text/event-stream",
        authorization: `Bearer ${guest.accessToken}`,
      },
    );
    const liveReader = (open.body as ReadableStream<Uint8Array>).getReader();
    let liveText = "";
    while (!liveText.includes("confirmed")) liveText += decoder.decode((await liveReader.read()).value);
    const stopping = performance.now();
    const exited = b.stop();
    let ended = false;
    while (!ended) ended = (await liveReader.read()).done;
    expect(await exited).toBe(0);
    expect(performance.now() - stopping).toBeLessThan(5_000);
  }, 90_000);
});
