// Errors as GraphQL clients meet them: the service layer's AppError keeps its REST `code` (and
// status, and validation `errors` with their paths) in `extensions`; a database rule that fired is
// its 409/422; anything else is logged and answered "internal", never with a stack or SQL.
import { GraphQLError } from "graphql";
import { isUnavailable, ruleViolation } from "../db/errors";
import type { ErrorCode, StatusOf } from "../http/error-codes";
import { AppError } from "../http/errors";
import type { Logger } from "../lib/log";

/** The extensions of an error answered with one of the catalog's codes, and its REST status. */
const answered = <C extends ErrorCode>(code: C, status: StatusOf<C>, more: Record<string, unknown> = {}) => ({
  code,
  status,
  ...more,
});

function coded(error: GraphQLError, message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions,
  });
}

/** yoga's maskError: what a client may learn of an error thrown while executing. */
export function maskError(log: Logger): (error: unknown, message: string) => Error {
  return (error, message) => {
    const gql = error instanceof GraphQLError ? error : new GraphQLError(message);
    const original = error instanceof GraphQLError ? error.originalError : error;
    // GraphQL's own errors (parse, validation, limits, variables): as they are.
    if (!original) return gql;
    if (original instanceof AppError) {
      const retryAfter = original.headers?.["retry-after"];
      return coded(
        gql,
        original.detail,
        answered(original.code, original.status, {
          ...(original.errors ? { errors: original.errors } : {}),
          // REST's Retry-After, in seconds (429, 409 idempotency_in_progress, 503).
          ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}),
        }),
      );
    }
    if (original instanceof GraphQLError) return original;
    if (isUnavailable(original))
      return coded(
        gql,
        "A service this request needs is unreachable right now; retry shortly",
        answered("unavailable", 503),
      );
    const violation = ruleViolation(original);
    if (violation) {
      log.warn("database rule fired before any check (graphql)", { path: gql.path?.join(".") });
      return coded(gql, violation.detail, answered(violation.code, violation.status));
    }
    const err = original as Error;
    log.error("unhandled error (graphql)", {
      path: gql.path?.join("."),
      error: String(err?.message ?? err).split("\nparams:")[0],
      stack: err?.stack?.split("\n").slice(1, 8).join("\n"),
    });
    return coded(gql, "Something went wrong on our side", answered("internal", 500));
  };
}
