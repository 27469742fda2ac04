// createApp(deps) → the Elysia application: composes plugins and modules; never listens.
import { swagger } from "@elysiajs/swagger";
import { Elysia } from "elysia";
import type { Deps } from "./deps";
import { httpFoundation, MAX_BODY_BYTES } from "./http/foundation";
import { authRoutes } from "./modules/auth/routes";
import { opsRoutes, testClockRoutes } from "./modules/ops/routes";
import { userRoutes } from "./modules/users/routes";

export const VERSION = "0.1.0";

export function createApp(deps: Deps) {
  const api = new Elysia({ prefix: "/api/v1" }).use(authRoutes(deps)).use(userRoutes(deps)).use(testClockRoutes(deps));

  return new Elysia({
    normalize: false,
    // Bun refuses bodies over this (chunked ones too); declared lengths are refused earlier, as problem+json.
    serve: { maxRequestBodySize: MAX_BODY_BYTES + 1024 },
  })
    .use(httpFoundation(deps.log))
    .use(
      swagger({
        path: "/swagger",
        provider: "swagger-ui",
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
            { name: "operations", description: "Health and readiness" },
          ],
        },
      }),
    )
    .use(opsRoutes(deps))
    .use(api);
}

export type App = ReturnType<typeof createApp>;
