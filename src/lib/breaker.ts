// A circuit breaker for one dependency (Redis): after a failure, calls skip it and take their
// fallback at once, while a background probe checks every `probeMs` whether it is back. Each
// change of state is reported once, not once per request.
import { within } from "./deadline";

export class Breaker {
  private open = false;
  private closed = false;
  private timer: Timer | undefined;
  /** Work that must succeed before calls go back to the dependency (e.g. replaying missed writes). */
  private beforeClosing: (() => Promise<void>)[] = [];

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly onChange: (open: boolean, reason?: string) => void,
    private readonly probeMs = 1000,
    private readonly probeTimeoutMs = 1000,
  ) {}

  /** Runs `catchUp` after each successful probe; the breaker closes only once it succeeded too. */
  whenRecovering(catchUp: () => Promise<void>): void {
    this.beforeClosing.push(catchUp);
  }

  /** `call` against the dependency within `timeoutMs`, or `fallback` (at once while open). */
  async run<T>(call: () => Promise<T>, fallback: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
    if (this.open) return fallback();
    try {
      return await within(call(), timeoutMs, what);
    } catch (err) {
      this.failed(err);
      return fallback();
    }
  }

  /** Whether calls may go to the dependency. */
  get isClosed(): boolean {
    return !this.open;
  }

  /** A call failed (or timed out): skip the dependency until a probe succeeds. */
  failed(error: unknown): void {
    if (this.open || this.closed) return;
    this.open = true;
    this.onChange(true, error instanceof Error ? error.message : String(error));
    this.timer = setInterval(() => void this.check(), this.probeMs);
    this.timer.unref?.();
  }

  private async check(): Promise<void> {
    try {
      await within(this.probe(), this.probeTimeoutMs, "probe");
      for (const catchUp of this.beforeClosing) await within(catchUp(), this.probeTimeoutMs, "catch-up");
    } catch {
      return;
    }
    if (!this.open) return;
    this.open = false;
    clearInterval(this.timer);
    this.timer = undefined;
    this.onChange(false);
  }

  /** For good: no more probes, and failures no longer open it. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}
