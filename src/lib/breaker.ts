// A circuit breaker for one dependency (Redis): after a failure, calls skip it and take their
// fallback at once, while a background probe checks every `probeMs` whether it is back. Each
// change of state is reported once, not once per request.
import { within } from "./deadline";

export class Breaker {
  private open = false;
  private timer: Timer | undefined;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly onChange: (open: boolean, reason?: string) => void,
    private readonly probeMs = 1000,
    private readonly probeTimeoutMs = 1000,
  ) {}

  /** Whether calls may go to the dependency. */
  get isClosed(): boolean {
    return !this.open;
  }

  /** A call failed (or timed out): skip the dependency until a probe succeeds. */
  failed(error: unknown): void {
    if (this.open) return;
    this.open = true;
    this.onChange(true, error instanceof Error ? error.message : String(error));
    this.timer = setInterval(() => void this.check(), this.probeMs);
    this.timer.unref?.();
  }

  private async check(): Promise<void> {
    try {
      await within(this.probe(), this.probeTimeoutMs, "probe");
    } catch {
      return;
    }
    if (!this.open) return;
    this.open = false;
    clearInterval(this.timer);
    this.timer = undefined;
    this.onChange(false);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
