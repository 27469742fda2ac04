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
