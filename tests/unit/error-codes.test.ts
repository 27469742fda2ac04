// The error-code catalog: AppError, conflict() and problem() take only its codes, each with its own
// status (the @ts-expect-error lines fail `bun run typecheck` the day they compile), and the
// response maps made from codes list each code under its status.
import { describe, expect, test } from "bun:test";
import { errorCodes, isErrorCode, statusesOf } from "../../src/http/error-codes";
import { AppError, codesOf, conflict, errorResponses, problem } from "../../src/http/errors";
import { answerChecker } from "../support/documented-answers";

describe("the catalog", () => {
  test("a code outside it, or with another status than its own, does not compile", () => {
    // @ts-expect-error a typo is no code
    const typo = new AppError(404, "not_fuond", "x");
    // @ts-expect-error dates_unavailable is a 409
    const wrongStatus = new AppError(404, "dates_unavailable", "x");
    // @ts-expect-error conflict() takes only 409 codes
    const notAConflict = conflict("not_found", "x");
    // @ts-expect-error problem() too
    const wrongProblem = problem(400, "rate_limited", "x");
    // @ts-expect-error and a route's response map (which also refuses it when it runs)
    expect(() => errorResponses("no_such_code")).toThrow("not in the error-code catalog");
    const fine = new AppError(409, "dates_unavailable", "Those nights are taken");
    expect([typo, wrongStatus, notAConflict, wrongProblem].length).toBe(4);
    expect(fine).toMatchObject({ status: 409, code: "dates_unavailable" });
  });

  test("every code has a status of the error range, and isErrorCode knows exactly the catalog", () => {
    for (const code of Object.keys(errorCodes)) {
      expect(isErrorCode(code)).toBe(true);
      for (const status of statusesOf(code as keyof typeof errorCodes)) {
        expect(status, code).toBeGreaterThanOrEqual(400);
        expect(status, code).toBeLessThan(600);
      }
    }
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode("nope")).toBe(false);
  });

  test("errorResponses groups codes under their statuses, and codesOf reads them back", () => {
    const map = errorResponses("not_found", "invalid_state", "dates_unavailable", "too_many_holds");
    expect(Object.keys(map).sort()).toEqual(["404", "409", "429"]);
    expect(codesOf(map[409])).toEqual(["invalid_state", "dates_unavailable"]);
    expect(codesOf(map[404])).toEqual(["not_found"]);
    expect(codesOf(map[429])).toEqual(["too_many_holds"]);
    expect(codesOf({ type: "object" })).toBeUndefined();
  });
});

describe("the answer check", () => {
  const problemOf = (codes: string[]) => ({
    description: "x",
    content: {
      "application/problem+json": {
        schema: {
          allOf: [
            { $ref: "#/components/schemas/Problem" },
            { type: "object", required: ["code"], properties: { code: { type: "string", enum: codes } } },
          ],
        },
      },
    },
  });
  const check = answerChecker({
    paths: {
      "/api/v1/users/me": { get: { responses: { 200: {}, 401: problemOf(["unauthenticated"]) } } },
      "/api/v1/users/{id}": { get: { responses: { 200: {}, 404: problemOf(["not_found"]) } } },
    },
  });

  test("documented answers pass; an unlisted status, or an unlisted code of a listed one, does not", () => {
    expect(check("GET", "/api/v1/users/me", 200, {})).toBeUndefined();
    expect(check("GET", "/api/v1/users/me", 401, { code: "unauthenticated" })).toBeUndefined();
    expect(check("GET", "/api/v1/users/me", 401, { code: "token_expired" })).toEqual({
      operation: "GET /api/v1/users/me",
      status: 401,
      code: "token_expired",
    });
    // The static route wins over /users/{id}, as in the router.
    expect(check("GET", "/api/v1/users/me", 404, { code: "not_found" })).toMatchObject({ status: 404 });
    expect(check("GET", "/api/v1/users/0190?x=1", 404, { code: "not_found" })).toBeUndefined();
    expect(check("GET", "/api/v1/users/0190", 409, { code: "conflict" })).toMatchObject({ status: 409 });
    expect(check("GET", "/api/v1/users/0190", 204, undefined)).toMatchObject({ status: 204 });
    // Routes the document does not describe (GraphQL, unknown paths) are not its business.
    expect(check("POST", "/graphql", 400, { code: "whatever" })).toBeUndefined();
  });
});
