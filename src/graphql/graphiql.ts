// GraphiQL's page under a strict Content-Security-Policy, like the Swagger UI's: its two inline
// scripts (the bundle and its start) are allowed by their SHA-256, nothing else runs, and the page
// talks to this origin only.
import { renderGraphiQL as render } from "@graphql-yoga/render-graphiql";

type Options = Parameters<typeof render>[0];

const rendered = new Map<string, { html: string; csp: string }>();
let latest: string | undefined;

function policy(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${new Bun.CryptoHasher("sha256").update(m[1] ?? "").digest("base64")}'`,
  );
  return [
    "default-src 'none'",
    `script-src ${hashes.join(" ")}`,
    // GraphiQL's editors set styles at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

function page(options: Options): { html: string; csp: string } {
  // The page depends on its options alone (a 9 MB bundle: rendered and hashed once per set).
  const key = JSON.stringify(options ?? {});
  let entry = rendered.get(key);
  if (!entry) {
    const html = render(options);
    entry = { html, csp: policy(html) };
    if (rendered.size < 16) rendered.set(key, entry);
  }
  latest = entry.csp;
  return entry;
}

/** yoga's `renderGraphiQL`: the same page, rendered once per set of options. */
export const renderGraphiQL = (options: Options): string => page(options).html;

/**
 * The policy of the page yoga rendered last. Every page of a process has the same options (the
 * title and endpoint are constants), so it is the policy of any GraphiQL answer.
 */
export const graphiqlPolicy = (): string | undefined => latest;
