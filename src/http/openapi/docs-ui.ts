// The docs UI (Swagger UI) at /swagger and /swagger/, with its assets served from the binary itself:
// a machine without internet still gets working docs, and no page of ours loads a third-party script.
/// <reference path="../../types.d.ts" />
import { Elysia } from "elysia";
import favicon from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import { answerHeaders } from "../answer-headers";
import { notFound } from "../errors";

export const DOCS_PATH = "/swagger";
export const DOCUMENT_PATH = `${DOCS_PATH}/json`;
const ASSETS = `${DOCS_PATH}/assets`;

// A Map, not an object: /swagger/assets/__proto__ must be a 404, not Object.prototype.
const assets = new Map<string, { path: string; type: string }>([
  ["swagger-ui-bundle.js", { path: bundle, type: "text/javascript; charset=utf-8" }],
  ["swagger-ui.css", { path: css, type: "text/css; charset=utf-8" }],
  ["favicon-32x32.png", { path: favicon, type: "image/png" }],
]);

// Absolute paths only, so /swagger and /swagger/ load the same files and the same document.
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stayhub API</title>
<link rel="icon" type="image/png" href="${ASSETS}/favicon-32x32.png">
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="${ASSETS}/init.js"></script>
</body>
</html>`;

// A file rather than an inline script, so the page works under a strict Content-Security-Policy.
const init = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(DOCUMENT_PATH)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
  displayRequestDuration: true,
});`;

const headers = {
  "cache-control": "no-cache",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};

/**
 * The origin a caller reached us at: the request's own, or, behind our proxy (TRUST_PROXY), the
 * scheme and host it forwarded (the first of each list: the one the client used).
 */
export function publicOrigin(request: Request, trustProxy: boolean): string {
  const url = new URL(request.url);
  if (!trustProxy) return url.origin;
  const first = (name: string) => request.headers.get(name)?.split(",")[0]?.trim();
  const proto = first("x-forwarded-proto");
  const host = first("x-forwarded-host");
  const scheme = proto === "https" || proto === "http" ? proto : url.protocol.slice(0, -1);
  return host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)
    ? `${scheme}://${host}`
    : `${scheme}://${url.host}`;
}

/**
 * The UI routes. `document` builds the OpenAPI document once; each answer names the origin it was
 * asked at as the server, so "Try it out" calls the instance serving the docs, wherever it runs.
 */
export function docsUi(document: () => object, options: { trustProxy: boolean }) {
  // The document as text without its servers; each answer puts its own in front (no per-Host cache
  // for a caller to fill, no stringify per request).
  let rest: string | undefined;
  // Their own caching, except for a request with credentials: no-store, as every such answer (answerHeaders).
  const html = ({ request }: { request: Request }) =>
    new Response(page, {
      headers: { ...headers, "content-type": "text/html; charset=utf-8", ...answerHeaders(request) },
    });
  return new Elysia({ name: "stayhub.docs" })
    .get(DOCS_PATH, html, { detail: { hide: true } })
    .get(`${DOCS_PATH}/`, html, { detail: { hide: true } })
    .get(
      DOCUMENT_PATH,
      ({ request }) => {
        rest ??= JSON.stringify(document()).slice(1);
        const servers = JSON.stringify([
          { url: publicOrigin(request, options.trustProxy), description: "the instance serving this document" },
        ]);
        return new Response(`{"servers":${servers},${rest}`, {
          headers: {
            "content-type": "application/json; charset=utf-8",
            "cache-control": "no-cache",
            "access-control-allow-origin": "*",
            ...answerHeaders(request),
          },
        });
      },
      { detail: { hide: true } },
    )
    .get(
      `${ASSETS}/init.js`,
      ({ request }) =>
        new Response(init, {
          headers: { ...headers, "content-type": "text/javascript; charset=utf-8", ...answerHeaders(request) },
        }),
      { detail: { hide: true } },
    )
    .get(
      `${ASSETS}/:file`,
      ({ params, request }) => {
        const asset = assets.get(params.file);
        if (!asset) throw notFound("Asset");
        return new Response(Bun.file(asset.path), {
          headers: {
            ...headers,
            "content-type": asset.type,
            "cache-control": "public, max-age=86400",
            ...answerHeaders(request),
          },
        });
      },
      { detail: { hide: true } },
    );
}
