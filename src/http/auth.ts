// The one auth macro: `{ auth: true }` on a route resolves the acting user once per request.
import { Elysia } from "elysia";
import type { Deps } from "../dependencies";
import { type Actor, actorForToken, type Caller, callerOfToken } from "../modules/auth/actor";
import { AppError, unauthenticated } from "./errors";

/** The bearer token of an Authorization header: 401 when missing or malformed. */
function bearerToken(authorization: string | null | undefined): string {
  if (!authorization) throw unauthenticated("Missing bearer token");
  const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(authorization);
  if (!match?.[1]) throw unauthenticated('Malformed Authorization header; expected "Bearer <token>"');
  return match[1];
}

export async function authenticate(authorization: string | null | undefined, deps: Deps): Promise<Actor> {
  return actorForToken(bearerToken(authorization), deps);
}

/** The caller when a valid token came with the request, else null (for routes anyone may call). */
export async function optionalActor(authorization: string | null, deps: Deps): Promise<Actor | null> {
  if (!authorization) return null;
  try {
    return await authenticate(authorization, deps);
  } catch {
    return null;
  }
}

// Authentication runs in the transform phase, before the body is validated: a caller without a
// valid token learns nothing about the route's rules (401, never 422).
const actors = new WeakMap<Request, Actor>();

export function authMacro(deps: Deps) {
  return new Elysia({ name: "stayhub.auth" }).macro({
    auth: {
      detail: { security: [{ bearerAuth: [] }] },
      async transform({ request }) {
        actors.set(request, await authenticate(request.headers.get("authorization"), deps));
      },
      resolve({ request }) {
        const actor = actors.get(request);
        if (!actor) throw unauthenticated();
        return { actor };
      },
    },
  });
}

const callers = new WeakMap<Request, Caller>();

/**
 * `{ caller: true }`: the token checked (signature, expiry) without reading the account, for a verb
 * whose own statement reads the account anyway and applies `actingAs` to it (POST /bookings: one
 * round trip fewer). A bad token is still 401 before the body is looked at; a revoked session's is
 * 401 from the verb.
 */
export function callerMacro(deps: Deps) {
  return new Elysia({ name: "stayhub.caller" }).macro({
    caller: {
      detail: { security: [{ bearerAuth: [] }] },
      async transform({ request }) {
        callers.set(request, await callerOfToken(bearerToken(request.headers.get("authorization")), deps));
      },
      resolve({ request }) {
        const caller = callers.get(request);
        if (!caller) throw unauthenticated();
        return { caller };
      },
    },
  });
}

/** The answer of a route that does not exist, word for word (the admin routes answer it to non-admins). */
export const noSuchRoute = () => new AppError(404, "not_found", "No such route");

const admins = new WeakMap<Request, Promise<Actor | null>>();

/**
 * The request's admin, or null (no token, a bad one, or a user without the role). Looked up once
 * per request: the HTTP layer asks before the body is read, the admin macro asks again.
 */
export function adminOf(request: Request, deps: Deps): Promise<Actor | null> {
  let admin = admins.get(request);
  if (!admin) {
    admin = authenticate(request.headers.get("authorization"), deps).then(
      (actor) => (actor.roles.includes("admin") ? actor : null),
      () => null,
    );
    admins.set(request, admin);
  }
  return admin;
}

/**
 * `{ admin: true }`: the acting user, who must be an admin. To anyone else — no token, a bad one,
 * a user without the role — the route answers 404 like a route that does not exist, so the admin
 * routes are not discoverable.
 */
export function adminMacro(deps: Deps) {
  return new Elysia({ name: "stayhub.admin" }).macro({
    admin: {
      detail: { security: [{ bearerAuth: [] }] },
      async transform({ request }) {
        const actor = await adminOf(request, deps);
        if (!actor) throw noSuchRoute();
        actors.set(request, actor);
      },
      resolve({ request }) {
        const actor = actors.get(request);
        if (!actor) throw noSuchRoute();
        return { actor };
      },
    },
  });
}
