// Structured JSON logs, one object per line, written through a buffered stdout writer so that
// a log line per request costs a memcpy, not a syscall.

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  isEnabled(level: LogLevel): boolean;
  flush(): void;
}

type Sink = (line: string) => void;

// At tens of thousands of lines a second most share their millisecond: format it once.
let lastMs = 0;
let lastIso = "";
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export function createLogger(level: LogLevel, sink?: Sink): Logger {
  const min = rank[level];
  let write: Sink;
  let flush = () => {};
  if (sink) {
    write = sink;
  } else {
    const writer = Bun.stdout.writer({ highWaterMark: 64 * 1024 });
    write = (line) => void writer.write(line);
    flush = () => void writer.flush();
    // Lines written in a burst go out together; nothing waits longer than this.
    setInterval(flush, 200).unref();
  }
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return;
    const rest = fields ? JSON.stringify(fields) : "{}";
    write(`{"time":"${isoNow()}","level":"${lvl}","msg":${JSON.stringify(msg)}${rest.length > 2 ? `,${rest.slice(1)}` : "}"}\n`);
    if (lvl === "error") flush();
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    isEnabled: (lvl) => rank[lvl] >= min,
    flush: () => flush(),
  };
}
