// createApp(deps) → the Elysia application: composes plugins and modules; never listens.
import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
import type { Deps } from "./deps";
import { httpFoundation, MAX_BODY_BYTES } from "./http/foundation";
import { authRoutes } from "./modules/auth/routes";
import { opsRoutes, testClockRoutes } from "./modules/ops/routes";
import { notificationRoutes } from "./modules/notifications/routes";
import { propertyFastRoutes, propertyRoutes } from "./modules/properties/routes";
import { userRoutes } from "./modules/users/routes";

export const VERSION = "0.1.0";

export function createApp(deps: Deps) {
  const api = new Elysia({ prefix: "/api/v1" })
    .use(authRoutes(deps))
    .use(userRoutes(deps))
    .use(propertyRoutes(deps))
    .use(notificationRoutes(deps))
    .use(testClockRoutes(deps));

  // Native routes hand what they do not answer to the app itself (set once it exists).
  let handle = (_request: Request): Promise<Response> => Promise.reject(new Error("app not built"));

  const app = new Elysia({
    normalize: false,
    // Bun's hard cap (it answers a bare 413 past it, chunked bodies included) sits well above ours, so
    // that bodies over 1 MiB meet our problem+json answer: by declared length in onRequest, or by
    // their real size when parsed.
    // development: false whatever NODE_ENV says: Bun must never answer with its own error page.
    serve: { development: false, maxRequestBodySize: 8 * MAX_BODY_BYTES, routes: propertyFastRoutes(deps, (request) => handle(request)) },
  })
    .use(httpFoundation(deps.log, deps.metrics))
    .use(
      swagger({
        path: "/swagger",
        provider: "swagger-ui",
        // Our one dotted path is an API route (calendar.ics), not a static file.
        excludeStaticFile: false,
        documentation: {
          info: {
            title: "stayhub API",
            version: VERSION,
            description: "Book stays, list properties, take payments, review. Errors are application/problem+json (RFC 9457).",
          },
          components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
          tags: [
            { name: "auth", description: "Accounts and tokens" },
            { name: "users", description: "Profiles" },
            { name: "properties", description: "Listings, search, availability and calendars" },
            { name: "notifications", description: "In-app notifications" },
            { name: "operations", description: "Health and readiness" },
          ],
        },
      }),
    )
    .use(opsRoutes(deps))
    .use(api);
  handle = (request) => app.handle(request);
  return app;
}

export type App = ReturnType<typeof createApp>;
