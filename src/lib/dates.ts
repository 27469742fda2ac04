// Calendar days as "YYYY-MM-DD" strings: no time zone to shift them, sortable, comparable.

const DAY_MS = 86_400_000;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * True for a real calendar date in strict YYYY-MM-DD form (rejects 2025-02-30), from 0001-01-01
 * (PostgreSQL has no year 0) to 9999-12-31.
 */
export function isIsoDay(value: string): boolean {
  const m = ISO_DAY.exec(value);
  if (!m || m[1] === "0000") return false;
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

export function dayToMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export function msToDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return msToDay(dayToMs(day) + n * DAY_MS);
}

/** Nights from `from` to `to` (to exclusive): 2025-01-01 → 2025-01-04 is 3. */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayToMs(to) - dayToMs(from)) / DAY_MS);
}

/** Every day of [from, to). */
export function eachDay(from: string, to: string): string[] {
  const out: string[] = [];
  for (let ms = dayToMs(from), end = dayToMs(to); ms < end; ms += DAY_MS) out.push(msToDay(ms));
  return out;
}

/** The UTC calendar day of an instant. */
export function dayOf(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}
