// Runs wrk (Debian package `wrk`) against a URL on loopback and reads its summary.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LoadResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  requests: number;
  /** Responses by status, when the run counted them (`countStatuses`). */
  statuses?: Record<number, number>;
}

function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

export interface WrkOptions {
  connections: number;
  seconds: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Each request picks one of these paths at random (varied keys defeat caches). */
  paths?: string[];
  /** A Lua script of its own (its `request` makes each request), instead of method/body/paths. */
  lua?: string;
  /** Count responses by status (a `response` hook: costs wrk a little per response). */
  countStatuses?: boolean;
}

// Per-thread counters read back in `done` (wrk runs each thread's script in its own Lua state).
const STATUS_LUA = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
statuses = {}
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("STATUS %d %d\\n", k, v)) end
end
`;

export async function wrk(url: string, o: WrkOptions): Promise<LoadResult> {
  const args = ["wrk", "-t1", `-c${o.connections}`, `-d${o.seconds}s`, "--latency", "--timeout", "5s"];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if ((o.method && o.method !== "GET") || o.paths || o.lua || o.countStatuses) {
    const script = join(tmpdir(), `stayhub-wrk-${process.pid}-${Math.random().toString(36).slice(2)}.lua`);
    let lua = o.lua ?? "";
    if (o.method && o.method !== "GET")
      lua += `wrk.method = ${JSON.stringify(o.method)}\nwrk.body = ${JSON.stringify(o.body ?? "")}\n`;
    if (o.paths) {
      lua += `local paths = {${o.paths.map((p) => JSON.stringify(p)).join(",")}}\n`;
      lua += `math.randomseed(os.time())\nrequest = function() return wrk.format(nil, paths[math.random(#paths)]) end\n`;
    }
    if (o.countStatuses) lua += STATUS_LUA;
    writeFileSync(script, lua);
    args.push("-s", script);
  }
  args.push(url);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "");
  const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  const statuses: Record<number, number> = {};
  for (const m of out.matchAll(/^STATUS (\d+) (\d+)$/gm)) statuses[Number(m[1])] = Number(m[2]);
  return { rps, p50ms: p50, p99ms: p99, errors, requests, ...(o.countStatuses ? { statuses } : {}) };
}
