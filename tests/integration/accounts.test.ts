// Accounts over REST: e-mail verification (the token once, within 24 hours, for its purpose only;
// required for listing and booking when EMAIL_VERIFICATION=required), account deletion (personal
// data gone, sessions and listings with it, the other party's records kept, refused while stays lie
// ahead, safe against bookings racing it) and the export of everything stored about the caller.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { enqueue } from "../../src/jobs/outbox";
import { hashToken } from "../../src/modules/auth/account-tokens";
import { RESEND_LIMIT } from "../../src/modules/auth/email-verification";
import type { Mail } from "../../src/modules/notifications/mailer";
import { createAdmin } from "../../src/modules/users/admin-cli";
import { type Call, type Registered, registerUser, startTestApp, type TestApp } from "../support/app";
import { book, captureMail, drainJobs, onTestClock, setClock } from "../support/bookings";
import { createListing, listing, registerHost } from "../support/properties";

// Several tests race many requests and drain jobs: on the embedded database (no DATABASE_URL)
// they take longer than bun's 5 s default.
setDefaultTimeout(30_000);

const NOW = "2031-06-01T09:00:00.000Z";
let t: TestApp;
const sent: Mail[] = [];

beforeAll(async () => {
  t = await startTestApp();
  captureMail(t, sent);
}, 60_000);
onTestClock(() => t, NOW);

const api = (path: string) => `/api/v1${path}`;
const tokenIn = (m: Mail | undefined) => /\n\n([A-Za-z0-9_-]{40,})\n\n/.exec(m?.text ?? "")?.[1] as string;
const VERIFY_SUBJECT = "Verify your stayhub e-mail address";
const verifyMails = (email: string) => sent.filter((m) => m.to === email && m.subject === VERIFY_SUBJECT);
const verify = (token: string, call: Call = t.call) =>
  call<{ code?: string }>("POST", api("/auth/verify-email"), { body: { token } });
const me = (u: Registered, call: Call = t.call) =>
  call<{ emailVerified: boolean; code?: string }>("GET", api("/users/me"), { token: u.accessToken });
const query = <R = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  t.deps.database.raw.query(text, params) as Promise<R[]>;

async function verificationToken(app: TestApp, u: Registered): Promise<string> {
  await drainJobs(app);
  const token = tokenIn(verifyMails(u.email).at(-1));
  expect(token).toBeString();
  return token;
}

describe("e-mail verification", () => {
  test("registering mails a token; it verifies the address once, and only its hash is stored", async () => {
    const u = await registerUser(t.call);
    expect((await me(u)).body.emailVerified).toBe(false);
    const token = await verificationToken(t, u);
    const rows = await query<{ token_hash: string; purpose: string }>(
      "select token_hash, purpose from account_tokens where user_id = $1",
      [u.id],
    );
    expect(rows).toEqual([{ token_hash: hashToken(token), purpose: "email_verification" }]);
    expect((await verify(token)).status).toBe(204);
    expect((await me(u)).body.emailVerified).toBe(true);
    const again = await verify(token);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 400, code: "invalid_token" });
  });

  test("expired (24 hours), unknown, or of another purpose → 400 invalid_token, and the address stays unverified", async () => {
    const u = await registerUser(t.call);
    const token = await verificationToken(t, u);
    await setClock(t.call, "2031-06-02T09:00:00.000Z"); // exactly 24 hours after it was made
    expect((await verify(token)).body.code).toBe("invalid_token");
    await setClock(t.call, NOW);
    expect((await verify("no-such-token-at-all")).body.code).toBe("invalid_token");
    // A password-reset token does not verify, and a verification token does not reset.
    await t.call("POST", api("/auth/password-reset"), { body: { email: u.email } });
    await drainJobs(t);
    const reset = tokenIn(sent.filter((m) => m.to === u.email && m.subject === "Reset your stayhub password").at(-1));
    expect((await verify(reset)).body.code).toBe("invalid_token");
    const wrong = await t.call<{ code?: string }>("POST", api("/auth/password-reset/confirm"), {
      body: { token, newPassword: "a brand new password" },
    });
    expect(wrong.body.code).toBe("invalid_token");
    expect((await me(u)).body.emailVerified).toBe(false);
    expect((await verify(reset)).status).toBe(400);
  });

  test("resend: 202 and a new e-mail (one a minute); verifying spends every token; then 409; past the limit 429", async () => {
    const u = await registerUser(t.call);
    await drainJobs(t);
    const resend = () => t.call<{ code?: string }>("POST", api("/auth/verify-email/resend"), { token: u.accessToken });
    expect((await resend()).status).toBe(202);
    expect((await resend()).status).toBe(202);
    await drainJobs(t);
    expect(verifyMails(u.email).length).toBe(2); // registration's, and one for the two resends of this minute
    const [first, second] = verifyMails(u.email).map(tokenIn);
    expect((await verify(second as string)).status).toBe(204);
    expect((await verify(first as string)).body.code).toBe("invalid_token");
    const done = await resend();
    expect({ status: done.status, code: done.body.code }).toEqual({ status: 409, code: "invalid_state" });

    const v = await registerUser(t.call);
    const answers = [];
    for (let i = 0; i <= RESEND_LIMIT; i++)
      answers.push(await t.call("POST", api("/auth/verify-email/resend"), { token: v.accessToken }));
    expect(answers.map((a) => a.status)).toEqual([...Array(RESEND_LIMIT).fill(202), 429]);
    expect(answers.at(-1)?.headers.get("retry-after")).toBeString();
    expect((await t.call("POST", api("/auth/verify-email/resend"))).status).toBe(401);
  });

  test("optional (the default outside production): an unverified user lists and books", async () => {
    const host = await registerHost(t.call);
    const property = await createListing(t.call, host);
    const guest = await registerUser(t.call);
    expect(
      (await book(t.call, guest, { propertyId: property.id, checkIn: "2031-07-01", checkOut: "2031-07-03" })).status,
    ).toBe(201);
  });

  test("required: unverified hosts cannot list (or list again) and guests cannot book (403 email_unverified); verified they can", async () => {
    const strict = await startTestApp({ EMAIL_VERIFICATION: "required" });
    captureMail(strict, sent);
    try {
      await setClock(strict.call, NOW);
      const host = await registerHost(strict.call);
      const refused = await strict.call<{ code?: string; detail?: string }>("POST", api("/properties"), {
        token: host.accessToken,
        body: listing(),
      });
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: "email_unverified" });
      expect(refused.body.detail).toContain("/auth/verify-email");
      expect((await verify(await verificationToken(strict, host), strict.call)).status).toBe(204);
      const property = await createListing(strict.call, host);

      const guest = await registerUser(strict.call);
      const stay = { propertyId: property.id, checkIn: "2031-07-01", checkOut: "2031-07-03" };
      const unverified = await book(strict.call, guest, stay, { "idempotency-key": "before-verifying" });
      expect({ status: unverified.status, code: unverified.body.code }).toEqual({
        status: 403,
        code: "email_unverified",
      });
      expect((await verify(await verificationToken(strict, guest), strict.call)).status).toBe(204);
      // The same request with the same key, once verified: booked (the 403 was not kept as its answer).
      const booked = await book(strict.call, guest, stay, { "idempotency-key": "before-verifying" });
      expect({ status: booked.status, replayed: booked.headers.get("idempotent-replayed") }).toEqual({
        status: 201,
        replayed: null,
      });

      // A listing made before verification was required, by an unverified host: unlisting is
      // fine, listing it again waits for the address.
      const old = await registerHost(strict.call);
      const [row] = (await strict.deps.database.raw.query("select id from properties where host_id = $1", [
        host.id,
      ])) as { id: string }[];
      await strict.deps.database.raw.query("update properties set host_id = $1 where id = $2", [old.id, row?.id]);
      await strict.deps.database.raw.query(
        "update bookings set status = 'cancelled', cancelled_at = now(), cancelled_by = 'guest'",
      );
      expect(
        (
          await strict.call("PATCH", api(`/properties/${row?.id}`), {
            token: old.accessToken,
            body: { status: "unlisted" },
          })
        ).status,
      ).toBe(200);
      const relist = await strict.call<{ code?: string }>("PATCH", api(`/properties/${row?.id}`), {
        token: old.accessToken,
        body: { status: "listed" },
      });
      expect({ status: relist.status, code: relist.body.code }).toEqual({ status: 403, code: "email_unverified" });
    } finally {
      await strict.close();
    }
  });
});

describe("deleting the account", () => {
  const del = (u: Registered, password = u.password) =>
    t.call<{ code?: string; detail?: string }>("DELETE", api("/users/me"), {
      token: u.accessToken,
      body: { password },
    });

  test("wrong password → 401 and nothing happens; bad bodies → 422; no token → 401", async () => {
    const u = await registerUser(t.call);
    const wrong = await del(u, "not my password");
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 401, code: "invalid_credentials" });
    expect((await me(u)).status).toBe(200);
    expect((await t.call("DELETE", api("/users/me"), { token: u.accessToken, body: {} })).status).toBe(422);
    expect(
      (await t.call("DELETE", api("/users/me"), { token: u.accessToken, body: { password: u.password, admin: true } }))
        .status,
    ).toBe(422);
    expect((await t.call("DELETE", api("/users/me"), { body: { password: u.password } })).status).toBe(401);
  });

  test("erases the personal data, ends every session, unlists the listings; bookings and reviews stay, by a 'Deleted user'", async () => {
    const host = await registerHost(t.call, "Helga Host");
    await t.call("PATCH", api("/users/me"), {
      token: host.accessToken,
      body: { phone: "+351 912 345 678", bio: "I host.", avatarUrl: "https://img.example.com/h.jpg" },
    });
    const property = await createListing(t.call, host, { title: "Deleted host's cabin" });
    const guest = await registerUser(t.call, { name: "Gwen Guest" });
    // A past, completed stay of the guest, reviewed both ways.
    const stay = await book(t.call, guest, { propertyId: property.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
    await query(
      "update bookings set status = 'completed', check_in = '2031-05-01', check_out = '2031-05-03' where id = $1",
      [stay.body.id],
    );
    expect(
      (
        await t.call("POST", api(`/bookings/${stay.body.id}/reviews`), {
          token: guest.accessToken,
          body: { rating: 5, comment: "Lovely." },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await t.call("POST", api(`/bookings/${stay.body.id}/guest-review`), {
          token: host.accessToken,
          body: { rating: 4, comment: "Tidy guest." },
        })
      ).status,
    ).toBe(201);
    await drainJobs(t);

    const search = () => t.call<{ data: { id: string }[] }>("GET", api("/properties?city=Lisbon&limit=100"));
    expect((await search()).body.data.map((p) => p.id)).toContain(property.id);

    expect((await del(host)).status).toBe(204);
    const [row] = await query(
      "select email, name, phone, bio, avatar_url, status, deleted_at, password_hash from users where id = $1",
      [host.id],
    );
    expect(row).toMatchObject({
      email: `deleted-${host.id}@deleted.invalid`,
      name: "Deleted user",
      phone: null,
      bio: null,
      avatar_url: null,
      status: "deleted",
    });
    expect(row?.deleted_at).not.toBeNull();
    expect(JSON.stringify(await query("select * from users where id = $1", [host.id]))).not.toContain(host.email);
    expect(await query("select 1 from notifications where user_id = $1", [host.id])).toEqual([]);

    // No way back in: the access token, the refresh token and the password are all refused.
    expect((await me(host)).status).toBe(401);
    expect((await t.call("POST", api("/auth/refresh"), { body: { refreshToken: host.refreshToken } })).status).toBe(
      401,
    );
    expect(
      (await t.call("POST", api("/auth/login"), { body: { email: host.email, password: host.password } })).status,
    ).toBe(401);
    expect((await t.call("GET", api(`/users/${host.id}`))).status).toBe(404);
    // The listing left search (a cached one too) and cannot be seen.
    expect((await search()).body.data.map((p) => p.id)).not.toContain(property.id);
    expect((await t.call("GET", api(`/properties/${property.id}`))).status).toBe(404);
    // The guest keeps the stay and the review; the host's review of them is now by a "Deleted user".
    expect((await t.call("GET", api(`/bookings/${stay.body.id}`), { token: guest.accessToken })).status).toBe(200);
    const about = await t.call<{ data: { author: { name: string }; comment: string }[] }>(
      "GET",
      api(`/users/${guest.id}/reviews`),
    );
    expect(about.body.data.map((r) => [r.author.name, r.comment])).toEqual([["Deleted user", "Tidy guest."]]);
    // The e-mail address is free again.
    expect(
      (
        await t.call("POST", api("/auth/register"), {
          body: { email: host.email, password: "another long password", name: "New" },
        })
      ).status,
    ).toBe(201);
    // An admin sees the account as deleted, and cannot suspend it.
    await createAdmin({ email: "root-accounts@example.com", password: "admin password 1" }, t.deps);
    const admin = await t.call<{ accessToken: string }>("POST", api("/auth/login"), {
      body: { email: "root-accounts@example.com", password: "admin password 1" },
    });
    const listed = await t.call<{ data: { id: string; status: string }[] }>("GET", api("/admin/users?q=Deleted"), {
      token: admin.body.accessToken,
    });
    expect(listed.body.data.find((u) => u.id === host.id)?.status).toBe("deleted");
    const suspend = await t.call<{ code?: string }>("POST", api(`/admin/users/${host.id}/suspend`), {
      token: admin.body.accessToken,
      body: { reason: "x" },
    });
    expect({ status: suspend.status, code: suspend.body.code }).toEqual({ status: 409, code: "invalid_state" });
  });

  test("409 invalid_state with a confirmed stay ahead or a booking awaiting payment, as guest or as host; fine once it is over", async () => {
    const host = await registerHost(t.call);
    const property = await createListing(t.call, host);
    const guest = await registerUser(t.call);
    const stay = await book(t.call, guest, { propertyId: property.id, checkIn: "2031-06-20", checkOut: "2031-06-22" });
    for (const u of [guest, host]) {
      const res = await del(u);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: "invalid_state" });
      expect(res.body.detail).toContain("awaiting payment");
    }
    await query("update bookings set status = 'confirmed' where id = $1", [stay.body.id]);
    for (const u of [guest, host]) {
      const res = await del(u);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 409, code: "invalid_state" });
      expect(res.body.detail).toContain("confirmed stay ahead");
    }
    // Nothing was erased or unlisted by the refusals.
    expect((await t.call("GET", api(`/properties/${property.id}`))).status).toBe(200);
    expect((await me(guest)).status).toBe(200);
    // The stay's last night passes: now both may go.
    await setClock(t.call, "2031-06-22T10:00:00.000Z");
    expect((await del(guest)).status).toBe(204);
    expect((await del(host)).status).toBe(204);
  });

  test("bookings racing a deletion: either the deletion is refused, or no live booking of the deleted account or its listing exists", async () => {
    for (let round = 0; round < 5; round++) {
      const host = await registerHost(t.call);
      const property = await createListing(t.call, host);
      const guest = await registerUser(t.call);
      const other = await registerUser(t.call);
      const own = await createListing(t.call, await registerHost(t.call));
      const [guestGone, hostGone, ...booked] = await Promise.all([
        del(guest),
        del(host),
        book(t.call, guest, { propertyId: own.id, checkIn: "2031-08-01", checkOut: "2031-08-03" }),
        book(t.call, other, { propertyId: property.id, checkIn: "2031-08-01", checkOut: "2031-08-03" }),
      ]);
      for (const r of [guestGone, hostGone, ...booked]) expect(r.status).toBeLessThan(500);
      const live = await query<{ n: number }>(
        `select count(*)::int as n from bookings b join properties p on p.id = b.property_id
          join users g on g.id = b.guest_id join users h on h.id = p.host_id
         where b.status in ('pending_payment', 'confirmed') and (g.status = 'deleted' or h.status = 'deleted')
           and b.property_id = any($1::uuid[])`,
        [[property.id, own.id]],
      );
      expect(live[0]?.n).toBe(0);
      if (guestGone.status === 204) expect(booked[0]?.status).not.toBe(201);
      if (hostGone.status === 204) expect(booked[1]?.status).not.toBe(201);
    }
  });
});

describe("deletion against everything else the account does", () => {
  const del = (u: Registered) =>
    t.call<{ code?: string }>("DELETE", api("/users/me"), { token: u.accessToken, body: { password: u.password } });

  test("the placeholder address cannot log in (401, not a 500 on the erased password)", async () => {
    const u = await registerUser(t.call);
    expect((await del(u)).status).toBe(204);
    for (const password of [u.password, "!deleted", "anything at all"]) {
      const res = await t.call<{ code?: string }>("POST", api("/auth/login"), {
        body: { email: `deleted-${u.id}@deleted.invalid`, password },
      });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: "invalid_credentials" });
    }
  });

  test("profile edits, password changes, new listings and listing edits racing a deletion never bring data back, nor deadlock", async () => {
    for (let round = 0; round < 4; round++) {
      const host = await registerHost(t.call);
      const property = await createListing(t.call, host);
      const [gone, patched, created, edited, password] = await Promise.all([
        del(host),
        t.call("PATCH", api("/users/me"), {
          token: host.accessToken,
          body: { name: "Real Name", phone: "+351 912 345 678" },
        }),
        t.call("POST", api("/properties"), { token: host.accessToken, body: listing({ title: "Made while leaving" }) }),
        t.call("PATCH", api(`/properties/${property.id}`), {
          token: host.accessToken,
          body: { pricePerNight: 15_000 },
        }),
        t.call("POST", api("/users/me/password"), {
          token: host.accessToken,
          body: { currentPassword: host.password, newPassword: "a different long password" },
        }),
      ]);
      expect(gone.status).toBe(204);
      for (const r of [patched, created, edited, password]) expect([200, 201, 204, 401]).toContain(r.status);
      const [row] = await query<{ name: string; phone: string | null; password_hash: string }>(
        "select name, phone, password_hash from users where id = $1",
        [host.id],
      );
      expect({ name: row?.name, phone: row?.phone, hash: row?.password_hash }).toEqual({
        name: "Deleted user",
        phone: null,
        hash: "!deleted",
      });
      const listed = await query("select id from properties where host_id = $1 and status = 'listed'", [host.id]);
      expect(listed).toEqual([]);
      const docs = await query<{ body: string }>("select body from property_documents where host_id = $1", [host.id]);
      for (const d of docs) expect(d.body).not.toContain("Real Name");
    }
  });

  test("a notification queued before the deletion is dropped, and its e-mail not sent", async () => {
    const u = await registerUser(t.call, { name: "Norma Notified" });
    await drainJobs(t);
    await t.deps.db.transaction((tx) =>
      enqueue(tx, t.deps.clock, "notify", {
        userId: u.id,
        type: "test",
        title: "Late news",
        body: "Hi Norma",
        email: true,
      }),
    );
    const before = sent.length;
    expect((await del(u)).status).toBe(204);
    await drainJobs(t);
    expect(await query("select 1 from notifications where user_id = $1", [u.id])).toEqual([]);
    expect(sent.slice(before).filter((m) => m.subject === "Late news")).toEqual([]);
  });
});

describe("export", () => {
  test("everything stored about the caller, nothing about anyone else, and no secret", async () => {
    const host = await registerHost(t.call, "Xena Host");
    const property = await createListing(t.call, host);
    const guest = await registerUser(t.call, { name: "Xavier Guest" });
    const stranger = await registerUser(t.call);
    const mine = await book(t.call, guest, { propertyId: property.id, checkIn: "2031-09-01", checkOut: "2031-09-03" });
    const theirs = await book(t.call, stranger, {
      propertyId: property.id,
      checkIn: "2031-09-10",
      checkOut: "2031-09-12",
    });
    const paid = await t.call("POST", api(`/bookings/${mine.body.id}/payments`), {
      token: guest.accessToken,
      body: { paymentMethod: "pm_card_visa" },
      headers: { "idempotency-key": "export-pay" },
    });
    expect(paid.status).toBe(202);
    // A past stay, reviewed by the guest and answered by the host; the guest reviewed by the host.
    const past = await book(t.call, guest, { propertyId: property.id, checkIn: "2031-06-10", checkOut: "2031-06-12" });
    await query(
      "update bookings set status = 'completed', check_in = '2031-05-01', check_out = '2031-05-03' where id = $1",
      [past.body.id],
    );
    const review = await t.call<{ id: string }>("POST", api(`/bookings/${past.body.id}/reviews`), {
      token: guest.accessToken,
      body: { rating: 4, comment: "Good." },
    });
    expect(
      (
        await t.call("POST", api(`/reviews/${review.body.id}/response`), {
          token: host.accessToken,
          body: { comment: "Thanks!" },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await t.call("POST", api(`/bookings/${past.body.id}/guest-review`), {
          token: host.accessToken,
          body: { rating: 5, comment: "Ideal guest." },
        })
      ).status,
    ).toBe(201);
    await drainJobs(t);
    type Export = {
      user: { id: string; email: string; emailVerified: boolean };
      sessions: { active: boolean }[];
      properties: { id: string }[];
      bookings: { id: string }[];
      hostedBookings: { id: string }[];
      notifications: { type: string }[];
      payments: { bookingId: string; status: string }[];
      reviews: { comment: string }[];
      guestReviewsReceived: { comment: string; author: { name: string } }[];
      guestReviewsWritten: { comment: string }[];
      reviewResponses: { reviewId: string; comment: string }[];
    };
    const out = await t.call<Export>("GET", api("/users/me/export"), { token: guest.accessToken });
    expect(out.status).toBe(200);
    expect(out.body.user).toMatchObject({ id: guest.id, email: guest.email, emailVerified: false });
    expect(out.body.sessions).toEqual([
      { createdAt: expect.any(String), expiresAt: expect.any(String), active: true },
    ] as never);
    expect(out.body.bookings.map((b) => b.id).sort()).toEqual([mine.body.id, past.body.id].sort());
    expect(out.body.payments.map((p) => [p.bookingId, p.status])).toEqual([[mine.body.id, "succeeded"]]);
    expect(out.body.reviews.map((r) => r.comment)).toEqual(["Good."]);
    expect(out.body.guestReviewsReceived.map((r) => [r.comment, r.author.name])).toEqual([
      ["Ideal guest.", "Xena Host"],
    ]);
    expect(out.body.hostedBookings).toEqual([]);
    expect(out.body.notifications.map((n) => n.type)).toContain("welcome");
    expect(out.text).not.toContain(theirs.body.id);
    expect(out.text).not.toContain(stranger.email);
    const [secret] = await query<{ password_hash: string }>("select password_hash from users where id = $1", [
      guest.id,
    ]);
    expect(out.text).not.toContain(secret?.password_hash as string);
    expect(out.text).not.toMatch(/password|token_?hash/i);

    const hosted = await t.call<Export>("GET", api("/users/me/export"), { token: host.accessToken });
    expect(hosted.body.properties.map((p) => p.id)).toEqual([property.id]);
    expect(hosted.body.hostedBookings.map((b) => b.id).sort()).toEqual(
      [mine.body.id, theirs.body.id, past.body.id].sort(),
    );
    expect(hosted.body.reviewResponses.map((r) => [r.reviewId, r.comment])).toEqual([[review.body.id, "Thanks!"]]);
    expect(hosted.body.guestReviewsWritten.map((r) => r.comment)).toEqual(["Ideal guest."]);
    expect((await t.call("GET", api("/users/me/export"))).status).toBe(401);
  });
});
