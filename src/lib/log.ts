// Structured JSON logs, one object per line, written through a buffered stdout writer so that
// a log line per request costs a memcpy, not a syscall.

import { writeSync } from "node:fs";
import { redactingReplacer, redactText } from "./redact";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * A line whose fields the caller formatted itself (hot paths): `fieldsJson` is the text of the
   * line's remaining members, starting with a comma, e.g. `,"status":200`.
   */
  formatted(level: LogLevel, msg: string, fieldsJson: string): void;
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
    // Lines are encoded straight into one buffer and written a chunk at a time: no string is
    // kept, and there is one write call per ~60 KiB of lines instead of one per line.
    const writer = Bun.stdout.writer({ highWaterMark: 64 * 1024 });
    const buffer = new Uint8Array(64 * 1024);
    const encoder = new TextEncoder();
    let used = 0;
    flush = () => {
      if (used > 0) {
        writer.write(buffer.slice(0, used));
        used = 0;
      }
      void writer.flush();
    };
    write = (line) => {
      // Any UTF-16 unit takes at most 3 UTF-8 bytes.
      if (used + line.length * 3 > buffer.length) {
        if (used > 0) {
          writer.write(buffer.slice(0, used));
          used = 0;
        }
        if (line.length * 3 > buffer.length) return void writer.write(line);
      }
      used += encoder.encodeInto(line, buffer.subarray(used)).written;
    };
    // Lines written in a burst go out together; nothing waits longer than this.
    setInterval(flush, 200).unref();
    // Whatever is still buffered when the process ends (an exit, or a crash that reaches exit).
    process.on("exit", () => {
      if (used > 0) writeSync(1, buffer.subarray(0, used));
      used = 0;
    });
  }
  const emitText = (lvl: LogLevel, msg: string, members: string) => {
    if (rank[lvl] < min) return;
    write(`{"time":"${isoNow()}","level":"${lvl}","msg":${JSON.stringify(msg)}${members}}\n`);
    if (lvl === "error") flush();
  };
  // Every line but the pre-formatted ones is redacted: message, error, stack and fields. (The
  // pre-formatted access-log line holds ids, a method, a route pattern, a status and a duration.)
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < min) return;
    const rest = fields ? JSON.stringify(fields, redactingReplacer) : "{}";
    emitText(lvl, redactText(msg), rest.length > 2 ? `,${rest.slice(1, -1)}` : "");
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    formatted: emitText,
    isEnabled: (lvl) => rank[lvl] >= min,
    flush: () => flush(),
  };
}
