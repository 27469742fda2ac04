// `bun tests/load/hostile-bodies.ts [binary]`: /health latency on one connection while 16 clients
// send the worst bodies we could construct (deep nesting) to a public body route, against the idle
// figure in the same run. Target: /health p99 under 20 ms. Embedded database, loopback only,
// bounded in time (2 × SECONDS s of load).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { wrk } from "./wrk";

const BINARY = resolve(process.argv[2] ?? join(import.meta.dir, "../../dist/stayhub"));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const dir = mkdtempSync(join(tmpdir(), "stayhub-hostile-"));
const port = 4300 + Math.floor(Math.random() * 500);
const proc = Bun.spawn([BINARY, "serve"], {
  env: { PORT: String(port), DATA_DIR: join(dir, "data"), LOG_LEVEL: "error", WORKER_THREADS: "1" },
  stdout: "ignore",
  stderr: "ignore",
});
const url = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    if (
      await fetch(`${url}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 300) throw new Error("not ready");
    await Bun.sleep(100);
  }
  const bodies = {
    "10,000 × [ (20 kB)": "[".repeat(10_000),
    "100,000 × [ (195 kB)": "[".repeat(100_000),
    '30,000 × {"a": (150 kB)': '{"a":'.repeat(30_000),
  };
  const idle = await wrk(`${url}/health`, { connections: 1, seconds: SECONDS });
  console.log(`binary: ${BINARY}`);
  console.log(`/health idle, 1 connection: p50 ${idle.p50ms} ms, p99 ${idle.p99ms} ms, ${Math.round(idle.rps)} req/s`);
  for (const [name, body] of Object.entries(bodies)) {
    const storm = wrk(`${url}/api/v1/auth/register`, {
      connections: 16,
      seconds: SECONDS,
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    await Bun.sleep(300);
    const health = await wrk(`${url}/health`, { connections: 1, seconds: SECONDS - 1 });
    const hostile = await storm;
    const target = health.p99ms < 20 ? "met" : "NOT met";
    console.log(
      `${name}: ${Math.round(hostile.rps)} hostile req/s (p99 ${hostile.p99ms} ms); /health p99 ${health.p99ms} ms, ${Math.round(health.rps)} req/s (target < 20 ms: ${target})`,
    );
  }
} finally {
  proc.kill("SIGTERM");
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
}
