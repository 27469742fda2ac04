import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { registerUser, startTestApp, type TestApp } from "../support/app";
import { createListing, registerHost } from "../support/properties";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.call("POST", "/api/v1/_test/clock", { body: { now: "2031-06-01T09:00:00Z" } });
}, 60_000);
afterAll(async () => {
  await t?.call("DELETE", "/api/v1/_test/clock");
  await t?.close();
});

type Days = { days: { date: string; available: boolean; price: number }[] };

async function bookDirectly(propertyId: string, checkIn: string, checkOut: string) {
  const guest = await registerUser(t.call);
  const nights = (Date.parse(checkOut) - Date.parse(checkIn)) / 86_400_000;
  await t.deps.database.raw.query(
    `insert into bookings (id, property_id, guest_id, check_in, check_out, guests, status, nights, nightly_total, cleaning_fee, service_fee, total, currency, expires_at)
     values ($1, $2, $3, $4, $5, 1, 'confirmed', $6, 1000, 0, 100, 1100, 'EUR', now())`,
    [Bun.randomUUIDv7(), propertyId, guest.id, checkIn, checkOut, nights],
  );
}

describe("availability and calendar", () => {
  test("per-day availability and price: overrides, blocks, bookings and the past", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host, { pricePerNight: 10000 });
    const put = (body: Record<string, unknown>) =>
      t.call<Days>("PUT", `/api/v1/properties/${p.id}/calendar`, { token: host.accessToken, body });
    expect((await put({ from: "2031-06-05", to: "2031-06-07", price: 15000 })).status).toBe(200);
    const blocked = await put({ from: "2031-06-07", to: "2031-06-08", blocked: true });
    expect(blocked.body.days).toEqual([{ date: "2031-06-07", available: false, price: 10000 }]);
    await bookDirectly(p.id, "2031-06-08", "2031-06-10");
    const res = await t.call<Days>("GET", `/api/v1/properties/${p.id}/availability?from=2031-05-31&to=2031-06-11`);
    expect(res.status).toBe(200);
    expect(res.body.days.map((d) => `${d.date.slice(8)}:${d.available ? "y" : "n"}:${d.price}`)).toEqual([
      "31:n:10000", // the past
      "01:y:10000", // today
      "02:y:10000",
      "03:y:10000",
      "04:y:10000",
      "05:y:15000",
      "06:y:15000",
      "07:n:10000", // blocked
      "08:n:10000", // booked
      "09:n:10000", // booked (checkOut 10th is free)
      "10:y:10000",
    ]);
    // null removes the override; unblocking frees the night.
    await put({ from: "2031-06-05", to: "2031-06-06", price: null });
    await put({ from: "2031-06-07", to: "2031-06-08", blocked: false });
    const after = await t.call<Days>("GET", `/api/v1/properties/${p.id}/availability?from=2031-06-05&to=2031-06-08`);
    expect(after.body.days).toEqual([
      { date: "2031-06-05", available: true, price: 10000 },
      { date: "2031-06-06", available: true, price: 15000 },
      { date: "2031-06-07", available: true, price: 10000 },
    ]);
    const [rows] = await t.deps.database.raw.query<{ n: number }>(
      "select count(*)::int as n from calendar_days where property_id = $1",
      [p.id],
    );
    expect(rows?.n).toBe(1); // only the remaining override is stored
  });

  test("defaults to 90 days from today; more than 366 days, reversed or impossible ranges → 422", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const d = await t.call<Days>("GET", `/api/v1/properties/${p.id}/availability`);
    expect(d.body.days).toHaveLength(90);
    expect(d.body.days[0]?.date).toBe("2031-06-01");
    for (const qs of [
      "from=2031-06-01&to=2032-06-03",
      "from=2031-06-05&to=2031-06-01",
      "from=2031-02-30&to=2031-03-02",
      "from=june",
    ]) {
      expect({ qs, status: (await t.call("GET", `/api/v1/properties/${p.id}/availability?${qs}`)).status }).toEqual({
        qs,
        status: 422,
      });
    }
  });

  test("blocking a booked night → 409 dates_unavailable and nothing changes", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    await bookDirectly(p.id, "2031-07-01", "2031-07-03");
    const res = await t.call("PUT", `/api/v1/properties/${p.id}/calendar`, {
      token: host.accessToken,
      body: { from: "2031-06-28", to: "2031-07-02", blocked: true },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("dates_unavailable");
    const [rows] = await t.deps.database.raw.query<{ n: number }>(
      "select count(*)::int as n from calendar_days where property_id = $1",
      [p.id],
    );
    expect(rows?.n).toBe(0);
  });

  test("only the host changes the calendar; a change needs blocked or price", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host);
    const other = await registerHost(t.call);
    expect(
      (
        await t.call("PUT", `/api/v1/properties/${p.id}/calendar`, {
          token: other.accessToken,
          body: { from: "2031-07-01", to: "2031-07-02", blocked: true },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await t.call("PUT", `/api/v1/properties/${p.id}/calendar`, {
          token: host.accessToken,
          body: { from: "2031-07-01", to: "2031-07-02" },
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await t.call("PUT", `/api/v1/properties/${p.id}/calendar`, {
          token: host.accessToken,
          body: { from: "2031-07-01", to: "2031-07-02", price: -5 },
        })
      ).status,
    ).toBe(422);
  });
});

describe("calendar.ics", () => {
  test("one all-day VEVENT per unavailable range, stable UIDs, CRLF lines", async () => {
    const host = await registerHost(t.call);
    const p = await createListing(t.call, host, { title: "Cabin; with, commas" });
    await bookDirectly(p.id, "2031-06-10", "2031-06-12");
    await t.call("PUT", `/api/v1/properties/${p.id}/calendar`, {
      token: host.accessToken,
      body: { from: "2031-06-12", to: "2031-06-14", blocked: true },
    });
    await t.call("PUT", `/api/v1/properties/${p.id}/calendar`, {
      token: host.accessToken,
      body: { from: "2031-06-20", to: "2031-06-21", blocked: true },
    });
    const res = await t.call("GET", `/api/v1/properties/${p.id}/calendar.ics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/calendar");
    const text = res.text;
    expect(text.startsWith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")).toBe(true);
    expect(text.endsWith("END:VCALENDAR\r\n")).toBe(true);
    expect(text.split("\r\n").every((line) => new TextEncoder().encode(line).length <= 75)).toBe(true);
    const events = text.split("BEGIN:VEVENT").slice(1);
    expect(events).toHaveLength(2); // the booking and the adjacent block merge into one range
    expect(events[0]).toContain("DTSTART;VALUE=DATE:20310610");
    expect(events[0]).toContain("DTEND;VALUE=DATE:20310614");
    expect(events[1]).toContain("DTSTART;VALUE=DATE:20310620");
    expect(text).toContain("X-WR-CALNAME:Cabin\\; with\\, commas (stayhub)");
    const again = await t.call("GET", `/api/v1/properties/${p.id}/calendar.ics`);
    const uids = (s: string) => s.match(/^UID:.*$/gm);
    expect(uids(again.text)).toEqual(uids(text));
    expect(uids(text)?.[0]).toBe(`UID:${p.id}-20310610@stayhub`);
  });

  test("RFC 5545-clean text: a bare CR, line breaks and control characters in a title never break the feed", async () => {
    const host = await registerHost(t.call);
    const title = "Loft\rX-INJECTED:1\nline two\u0007\u001b end\ttab";
    const p = await createListing(t.call, host, { title });
    const res = await t.call("GET", `/api/v1/properties/${p.id}/calendar.ics`);
    expect(res.status).toBe(200);
    const text = res.text;
    // Every line ends in CRLF; no CR or LF stands anywhere else, no control character but tab.
    expect(text.endsWith("\r\n")).toBe(true);
    expect(text.replaceAll("\r\n", "")).not.toMatch(/[\r\n]/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    expect(text).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
    expect(text).not.toMatch(/^X-INJECTED/m);
    // A strict parser (ical.js) reads it back: one property, the breaks kept as escapes (ical.js
    // leaves an X- property's text escaped), the control characters gone.
    const calendar = new ICAL.Component(ICAL.parse(text));
    expect(calendar.getAllProperties("x-wr-calname")).toHaveLength(1);
    expect(calendar.getFirstPropertyValue("x-wr-calname")).toBe("Loft\\nX-INJECTED:1\\nline two end\ttab (stayhub)");
  });

  test("404 for an unknown property", async () => {
    expect((await t.call("GET", "/api/v1/properties/01a21001-1cb3-775a-ba4d-59603dabccf5/calendar.ics")).status).toBe(
      404,
    );
  });
});
