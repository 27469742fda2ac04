// Operations: liveness, readiness, and the test clock (only with TEST_CLOCK=1).
import { Elysia, t } from "elysia";
import type { Deps } from "../../dependencies";
import { AppError, errorResponses } from "../../http/errors";
import { strictObject, Timestamp } from "../../http/schema";
import { within } from "../../lib/deadline";

export async function checkReady(deps: Deps): Promise<{ database: boolean; redis: boolean | null }> {
  const answers = (p: Promise<unknown>, what: string) =>
    within(p, 2000, what).then(
      () => true,
      () => false,
    );
  const [database, redis] = await Promise.all([
    answers(deps.database.raw.query("select 1"), "database"),
    deps.redis ? answers(deps.redis.ping(), "redis") : null,
  ]);
  return { database, redis };
}

const Ready = t.Object(
  {
    status: t.Union([t.Literal("ok"), t.Literal("unavailable")]),
    checks: t.Object({
      database: t.Boolean(),
      redis: t.Union([t.Boolean(), t.Null()], { description: "null without REDIS_URL" }),
    }),
  },
  { title: "Readiness" },
);

export function opsRoutes(deps: Deps) {
  const tags = ["operations"];
  return new Elysia()
    .get("/health", () => ({ status: "ok" as const }), {
      response: { 200: t.Object({ status: t.Literal("ok") }, { title: "Health" }) },
      detail: { tags, summary: "Liveness: the process runs" },
    })
    .get(
      "/ready",
      async ({ set }) => {
        const checks = await checkReady(deps);
        const ok = checks.database && checks.redis !== false;
        set.status = ok ? 200 : 503;
        return { status: ok ? ("ok" as const) : ("unavailable" as const), checks };
      },
      {
        response: { 200: Ready, 503: Ready },
        detail: { tags, summary: "Readiness: the database (and Redis when configured) answer" },
      },
    )
    .get(
      "/metrics",
      async () =>
        new Response(await deps.metrics.render(), { headers: { "content-type": deps.metrics.registry.contentType } }),
      {
        response: {
          200: t.String({ description: "Prometheus text exposition format", contentMediaType: "text/plain" }),
        },
        detail: {
          tags,
          summary: "Prometheus metrics: HTTP requests and latency by route and status, job queue and outcomes",
        },
      },
    );
}

const ClockBody = strictObject(
  { now: t.String({ format: "date-time", description: "an RFC 3339 timestamp in the years 2000–2999" }) },
  { title: "SetClock", examples: [{ now: "2027-07-01T12:00:00.000Z" }] },
);
const ClockDto = t.Object({ now: Timestamp, fixed: t.Boolean() }, { title: "Clock" });

export const CLOCK_MIN_YEAR = 2000;
export const CLOCK_MAX_YEAR = 2999;

/** Mounted only when TEST_CLOCK=1; otherwise the route does not exist (404). */
export function testClockRoutes(deps: Deps) {
  const clock = deps.testClock;
  if (!clock) return new Elysia();
  const tags = ["testing"];
  const answer = () => ({ now: clock.now().toISOString(), fixed: clock.isSet });
  return new Elysia({ prefix: "/_test/clock" })
    .post(
      "",
      ({ body }) => {
        const instant = new Date(body.now);
        // Every route stays total over the clock's range: the dates a stay, a feed or a default
        // range computes from it stay real dates.
        const year = instant.getUTCFullYear();
        if (Number.isNaN(instant.getTime()) || year < CLOCK_MIN_YEAR || year > CLOCK_MAX_YEAR) {
          const rule = `must be an RFC 3339 timestamp in the years ${CLOCK_MIN_YEAR}–${CLOCK_MAX_YEAR} (UTC)`;
          throw new AppError(422, "validation_failed", `Field /now ${rule}`, [{ path: "/now", message: rule }]);
        }
        clock.set(instant);
        deps.log.info("test clock set", { now: instant.toISOString() });
        return answer();
      },
      {
        body: ClockBody,
        response: { 200: ClockDto, ...errorResponses() },
        detail: { tags, summary: "Set the service's current time (TEST_CLOCK=1 only)" },
      },
    )
    .delete(
      "",
      () => {
        clock.reset();
        return answer();
      },
      { response: { 200: ClockDto }, detail: { tags, summary: "Back to the real time" } },
    )
    .get("", answer, { response: { 200: ClockDto }, detail: { tags, summary: "The service's current time" } });
}
