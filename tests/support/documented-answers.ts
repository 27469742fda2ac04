// Whether an answer is one the OpenAPI document lists for its operation: the status, and for an
// error its `code` among the codes documented for that status. Every answer of the integration
// tests' `call` is checked (tests/support/app.ts) and every answer of the fuzz suite, so a route
// that answers a status/code pair its document does not list fails the test that saw it.

// biome-ignore lint/suspicious/noExplicitAny: a parsed OpenAPI document, walked by path; its shape is what the checks are about
type Json = Record<string, any>;

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  literals: number;
  responses: Json;
}

/** The codes the document lists for one error answer (undefined: the answer names none). */
export function documentedCodes(response: Json | undefined): string[] | undefined {
  const schema = response?.content?.["application/problem+json"]?.schema as Json | undefined;
  const listed = (schema?.allOf as Json[] | undefined)?.find((s) => s.properties?.code)?.properties.code.enum;
  return Array.isArray(listed) ? listed : undefined;
}

export interface UndocumentedAnswer {
  operation: string;
  status: number;
  code?: string;
}

export function answerChecker(doc: Json) {
  const operations: Operation[] = Object.entries(doc.paths as Json).flatMap(([template, item]) =>
    Object.entries(item as Json).map(([method, op]) => {
      const segments = template.split("/");
      const source = segments
        .map((s) => (/^\{\w+\}$/.test(s) ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      return {
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${source}$`),
        literals: segments.filter((s) => !s.startsWith("{")).length,
        responses: (op as Json).responses as Json,
      };
    }),
  );
  /** The operation a request reaches, as the router picks it (static segments before parameters). */
  const operationOf = (method: string, path: string) =>
    operations
      .filter((o) => o.method === (method === "HEAD" ? "GET" : method) && o.pattern.test(path))
      .sort((a, b) => b.literals - a.literals)[0];

  /** undefined when the answer is documented (or its route is not in the document); else what is missing. */
  return (method: string, url: string, status: number, body: unknown): UndocumentedAnswer | undefined => {
    const path = new URL(url, "http://localhost").pathname;
    const op = operationOf(method.toUpperCase(), path);
    if (!op) return undefined;
    const operation = `${op.method} ${op.template}`;
    const response = op.responses[String(status)] as Json | undefined;
    if (status < 400) return response ? undefined : { operation, status };
    const code = (body as { code?: unknown } | null)?.code;
    const isProblem = Boolean(response?.content?.["application/problem+json"]);
    // A HEAD answer has no body; an error status answered with the route's own body (/ready's 503) has no code.
    if (method.toUpperCase() === "HEAD" || (response && !isProblem))
      return response ? undefined : { operation, status };
    if (typeof code !== "string") return { operation, status };
    return response && documentedCodes(response)?.includes(code) ? undefined : { operation, status, code };
  };
}

export const describeUndocumented = (a: UndocumentedAnswer) =>
  `${a.operation} answered ${a.status}${a.code ? ` ${a.code}` : ""}, which its OpenAPI document does not list ` +
  `(declare it in the route's response map: errorResponses("${a.code ?? "…"}", …))`;
