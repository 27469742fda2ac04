// The service's notion of "now": business rules and scheduled jobs read it, never the wall clock.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that tests can set (TEST_CLOCK=1): frozen at the instant set until reset, so that
 * "expiresAt = now + 15 min" is an exact, assertable value.
 */
export class SettableClock implements Clock {
  private fixed: Date | null = null;

  now(): Date {
    return this.fixed ? new Date(this.fixed.getTime()) : new Date();
  }

  set(instant: Date): void {
    this.fixed = new Date(instant.getTime());
  }

  reset(): void {
    this.fixed = null;
  }

  get isSet(): boolean {
    return this.fixed !== null;
  }
}

/**
 * The test clock shared by the API and its worker threads: setting it in one thread sets it in
 * all (BroadcastChannel reaches every thread of the process).
 */
export class SharedTestClock extends SettableClock {
  private channel = new BroadcastChannel("stayhub:test-clock");

  private heard: (() => void)[] = [];

  constructor() {
    super();
    this.channel.addEventListener("message", (e) => {
      const { fixed } = (e as { data: { fixed: string | null } }).data;
      if (fixed) super.set(new Date(fixed));
      else super.reset();
      for (const resolve of this.heard.splice(0)) resolve();
    });
    // A listening channel keeps a thread alive; the clock must not.
    (this.channel as unknown as { unref?: () => void }).unref?.();
  }

  override set(instant: Date): void {
    super.set(instant);
    this.channel.postMessage({ fixed: instant.toISOString() });
  }

  /** A thread started after the clock was set takes its value (without telling the others). */
  adopt(fixed: string | null): void {
    if (fixed) super.set(new Date(fixed));
  }

  /**
   * Tells every thread the current value again: for a thread that was still starting when the clock
   * last moved (its own clock not listening yet, or adopting an older value). Sent on the channel
   * that carries every change, so it cannot overtake a later one.
   */
  announce(): void {
    this.channel.postMessage({ fixed: this.isSet ? this.now().toISOString() : null });
  }

  /** Resolves when the next value from another thread has been taken (an announcement or a change). */
  nextValue(): Promise<void> {
    return new Promise((resolve) => this.heard.push(resolve));
  }

  override reset(): void {
    super.reset();
    this.channel.postMessage({ fixed: null });
  }

  close(): void {
    this.channel.close();
  }
}
