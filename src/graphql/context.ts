// The per-request GraphQL context: the caller (resolved at most once, only when a field asks) and
// the request's loaders. Same bearer token and same rules as REST: the verbs decide.
import type { Deps } from "../dependencies";
import { authenticate, optionalActor } from "../http/auth";
import type { Actor } from "../modules/auth/actor";
import { createLoaders, type Loaders } from "./loaders";

export interface GraphQLContext {
  deps: Deps;
  /** The caller when a valid token came, else null (public fields: a bad token reads as none, as in REST). */
  viewer(): Promise<Actor | null>;
  /** The caller, or the REST 401/403 (unauthenticated, token_expired, suspended). */
  actor(): Promise<Actor>;
  /** The token checked again, now (a long-lived subscription before each push). */
  reauthenticate(): Promise<Actor>;
  /** The request's id, for idempotent answers that store it. */
  requestId: string | undefined;
  loaders: Loaders;
}

export function createContext(deps: Deps, request: Request, requestId: string | undefined): GraphQLContext {
  const authorization = request.headers.get("authorization");
  let viewer: Promise<Actor | null> | undefined;
  let actor: Promise<Actor> | undefined;
  const context: GraphQLContext = {
    deps,
    requestId,
    viewer: () => {
      viewer ??= optionalActor(authorization, deps);
      return viewer;
    },
    actor: () => {
      actor ??= authenticate(authorization, deps);
      return actor;
    },
    reauthenticate: () => authenticate(authorization, deps),
    loaders: undefined as unknown as Loaders,
  };
  context.loaders = createLoaders(deps, () => context.viewer());
  return context;
}
