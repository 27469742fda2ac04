// createApp(deps) → the Elysia application: composes plugins and modules; never listens.
import { type AnyElysia, Elysia } from "elysia";
import type { Deps } from "./dependencies";
import { graphqlFastRoutes, graphqlRoutes } from "./graphql/server";
import { adminOf } from "./http/auth";
import { httpFoundation } from "./http/foundation";
import { docsUi } from "./http/openapi/docs-ui";
import { openApiDocument } from "./http/openapi/document";
import { adminRoutes } from "./modules/admin/routes";
import { authRoutes } from "./modules/auth/routes";
import { bookingRoutes } from "./modules/bookings/routes";
import { ledgerRoutes } from "./modules/ledger/routes";
import { notificationRoutes } from "./modules/notifications/routes";
import { opsRoutes, testClockRoutes } from "./modules/ops/routes";
import { paymentRoutes } from "./modules/payments/routes";
import { propertyFastRoutes, propertyRoutes } from "./modules/properties/routes";
import { reviewRoutes } from "./modules/reviews/routes";
import { userRoutes } from "./modules/users/routes";
import { wishlistRoutes } from "./modules/wishlists/routes";

export const VERSION = "0.1.0";

/** /api/v1/admin/…: 404 to anyone but an admin, before anything else is read. */
function isAdminPath(request: Request): boolean {
  const url = request.url;
  const at = url.indexOf("/api/v1/admin/");
  return at >= 0 && url.indexOf("/", url.indexOf("//") + 2) === at;
}

/** POST /api/v1/webhooks/payments (which answers 404 while PAYMENT_WEBHOOK_SECRET is unset). */
function isWebhookRequest(request: Request): boolean {
  if (request.method !== "POST") return false;
  const url = request.url;
  const query = url.indexOf("?");
  return (query < 0 ? url : url.slice(0, query)).endsWith("/api/v1/webhooks/payments");
}

export function createApp(deps: Deps) {
  const api = new Elysia({ prefix: "/api/v1" })
    .use(authRoutes(deps))
    .use(userRoutes(deps))
    .use(propertyRoutes(deps))
    .use(bookingRoutes(deps))
    .use(paymentRoutes(deps))
    .use(ledgerRoutes(deps))
    .use(reviewRoutes(deps))
    .use(adminRoutes(deps))
    .use(notificationRoutes(deps))
    .use(wishlistRoutes(deps))
    .use(testClockRoutes(deps));

  // Native routes hand what they do not answer to the app itself (set once it exists).
  let handle = (_request: Request): Promise<Response> => Promise.reject(new Error("app not built"));
  // The document and the HTTP layer read the finished route table (set once it exists).
  let built: AnyElysia | undefined;
  const routes = (): AnyElysia => {
    if (!built) throw new Error("app not built");
    return built;
  };

  const app = new Elysia({
    normalize: false,
    // Bun's own cap (past it Bun answers a bare 413, chunked bodies included) is out of the way:
    // bodies over 1 MiB meet our problem+json answer, by declared length in onRequest or, read as
    // a stream, at their 1 MiB + 1st byte (so no body ever costs more than 1 MiB of memory).
    // development: false whatever NODE_ENV says: Bun must never answer with its own error page.
    serve: {
      development: false,
      maxRequestBodySize: 2 ** 40,
      routes: {
        ...propertyFastRoutes(deps, (request) => handle(request)),
        ...graphqlFastRoutes(deps, (request) => handle(request)),
      },
    },
  })
    .use(
      httpFoundation(deps.log, deps.metrics, routes, {
        bodyTimeoutMs: deps.config.bodyTimeoutMs,
        switchedOff: (request) =>
          (!deps.config.paymentWebhookSecret && isWebhookRequest(request)) ||
          (isAdminPath(request) ? adminOf(request, deps).then((a) => !a) : false),
      }),
    )
    .use(docsUi(() => openApiDocument(routes(), { version: VERSION }), { trustProxy: deps.config.trustProxy }))
    .use(opsRoutes(deps))
    .use(graphqlRoutes(deps))
    .use(api);
  handle = (request) => app.handle(request);
  built = app;
  return app;
}

export type App = ReturnType<typeof createApp>;
