// The docs UI in a real browser (Debian's headless Chromium, driven by playwright-core) with every
// request to anything but loopback refused: the page renders its operations from assets the
// binary serves, Authorize takes a token, and "Try it out" calls the API and shows 200.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Locator } from "playwright-core";
import { api, type Running, runCleanups, start, tempDir } from "../support/binary";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// CI installs Chromium (.ci/run); a developer machine without it skips, CI never does.
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);

/** The status Swagger UI shows for the operation's live response, once it arrived. */
async function statusOf(operation: Locator): Promise<string | null> {
  const cell = operation.locator(".live-responses-table tr.response .response-col_status").first();
  await cell.waitFor({ timeout: 10_000 });
  return (await cell.textContent())?.trim() ?? null;
}

let server: Running;
let browser: Browser | undefined;

beforeAll(async () => {
  server = await start({ DATA_DIR: join(tempDir(), "data"), LOG_LEVEL: "warn" }, tempDir());
  if (hasChromium) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await runCleanups();
});

test.skipIf(!hasChromium)(
  "offline docs: operations render, Authorize works, Try it out returns 200 at /swagger and /swagger/",
  async () => {
    const session = await api(server.url, "POST", "/auth/register", {
      email: "docs@example.com",
      password: "a long enough password",
      name: "Docs Reader",
    });
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 1600 } });
    const refused: string[] = [];
    const loaded: string[] = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
        loaded.push(url.pathname);
        return route.continue();
      }
      refused.push(url.href);
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));

    for (const path of ["/swagger", "/swagger/"]) {
      await page.goto(`${server.url}${path}`);
      await page.locator(".opblock").first().waitFor({ timeout: 20_000 });
      expect(await page.locator(".opblock").count(), path).toBeGreaterThanOrEqual(20);
      expect(await page.locator(".opblock-summary-path").allTextContents()).toContain("/api/v1/properties/{id}");
    }

    // Try it out on a public operation.
    const health = page.locator("#operations-operations-getHealth");
    await health.locator(".opblock-summary").click();
    await health.getByRole("button", { name: "Try it out" }).click();
    await health.getByRole("button", { name: "Execute" }).click();
    expect(await statusOf(health)).toBe("200");

    // Authorize with a bearer token, then call an authenticated operation.
    await page
      .getByRole("button", { name: /Authorize/ })
      .first()
      .click();
    await page.locator(".modal-ux input").first().fill(session.body.accessToken);
    await page.locator(".modal-ux button.authorize").click();
    await page.locator(".modal-ux button.btn-done").click();
    const me = page.locator("#operations-users-getUsersMe");
    await me.locator(".opblock-summary").click();
    await me.getByRole("button", { name: "Try it out" }).click();
    await me.getByRole("button", { name: "Execute" }).click();
    expect(await statusOf(me)).toBe("200");
    expect(
      await me.locator(".live-responses-table tr.response .response-col_description").first().textContent(),
    ).toContain("docs@example.com");

    // Beside the binary it tested (dist/ is build output, never committed), or where DOCS_SCREENSHOT says.
    const screenshot = process.env.DOCS_SCREENSHOT ?? join(import.meta.dir, "../../dist/docs-screenshot.png");
    await page.screenshot({ path: screenshot, fullPage: false });
    console.log(`docs screenshot: ${screenshot}`);

    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
    expect(loaded).toEqual(
      expect.arrayContaining([
        "/swagger/assets/swagger-ui-bundle.js",
        "/swagger/assets/swagger-ui.css",
        "/swagger/json",
      ]),
    );
    await context.close();
  },
  90_000,
);

test.skipIf(!hasChromium)(
  "GraphiQL renders and runs a query under its Content-Security-Policy, with no violation reported",
  async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 } });
    await context.route("**/*", (route) =>
      ["127.0.0.1", "localhost", "[::1]"].includes(new URL(route.request().url()).hostname)
        ? route.continue()
        : route.abort("internetdisconnected"),
    );
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text().slice(0, 300));
    });
    const answer = await page.goto(`${server.url}/graphql`);
    expect(answer?.headers()["content-security-policy"]).toContain("script-src 'sha256-");
    await page.locator(".graphiql-container").first().waitFor({ timeout: 30_000 });
    // The editors are up and the schema came through introspection (a request to this origin).
    const introspected = page.waitForResponse((r) => r.url().endsWith("/graphql") && r.request().method() === "POST");
    await page.reload();
    await page.locator(".graphiql-container").first().waitFor({ timeout: 30_000 });
    expect((await introspected).status()).toBe(200);
    await Bun.sleep(500);
    const screenshot = process.env.GRAPHIQL_SCREENSHOT ?? join(import.meta.dir, "../../dist/graphiql-screenshot.png");
    await page.screenshot({ path: screenshot, fullPage: false });
    expect(problems).toEqual([]);
    await context.close();
  },
  90_000,
);
