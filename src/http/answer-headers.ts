// Headers every answer carries, whichever pipeline built it (Elysia's or a Bun-native route).

/** Never sniffed: stored user text (reviews, names, bios) is served as JSON and must never be read as HTML. */
const PUBLIC: Readonly<Record<string, string>> = Object.freeze({ "x-content-type-options": "nosniff" });
/** An answer to a request that carries credentials is the caller's own: no cache may keep it. */
const PRIVATE: Readonly<Record<string, string>> = Object.freeze({
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
});

/** The headers of any answer to `request` (authenticated: a bearer token sent, valid or not). */
export const answerHeaders = (request: Request): Readonly<Record<string, string>> =>
  request.headers.has("authorization") ? PRIVATE : PUBLIC;

/** The same on a Response already built (yoga's): set in place. */
export function addAnswerHeaders(request: Request, response: Response): Response {
  for (const [name, value] of Object.entries(answerHeaders(request))) response.headers.set(name, value);
  return response;
}
