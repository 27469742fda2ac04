// iCalendar (RFC 5545) feed of a property's unavailable nights, for other platforms' calendar sync.
import type { UnavailableRange } from "./calendar";

const compactDay = (day: string) => day.replaceAll("-", "");

function stamp(instant: Date): string {
  return `${instant.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z`;
}

/**
 * Text values escape backslash, semicolon, comma and line breaks (CRLF, LF or a bare CR) (RFC 5545
 * §3.3.11); other control characters are not allowed in a TEXT value at all and are dropped.
 */
export function escapeText(s: string): string {
  const escaped = s
    .replace(/\\/g, "\\\\")
    .replace(/;/g, "\\;")
    .replace(/,/g, "\\,")
    .replace(/\r\n|\r|\n/g, "\\n");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return escaped.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, "");
}

/** Lines longer than 75 octets are folded with CRLF + space (RFC 5545 §3.1). */
function fold(line: string): string {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let current = "";
  let size = 0;
  for (const ch of line) {
    const n = new TextEncoder().encode(ch).length;
    if (size + n > (parts.length === 0 ? 75 : 74)) {
      parts.push(current);
      current = "";
      size = 0;
    }
    current += ch;
    size += n;
  }
  parts.push(current);
  return parts.join("\r\n ");
}

/**
 * One all-day VEVENT per unavailable range. A range's UID is derived from the property and the
 * range's first night, so a calendar that re-imports the feed updates events instead of doubling them.
 */
export function icalFeed(property: { id: string; title: string }, ranges: UnavailableRange[], now: Date): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//stayhub//availability//EN",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    `X-WR-CALNAME:${escapeText(`${property.title} (stayhub)`)}`,
  ];
  for (const r of ranges) {
    lines.push(
      "BEGIN:VEVENT",
      `UID:${property.id}-${compactDay(r.start)}@stayhub`,
      `DTSTAMP:${stamp(now)}`,
      `DTSTART;VALUE=DATE:${compactDay(r.start)}`,
      `DTEND;VALUE=DATE:${compactDay(r.end)}`,
      "SUMMARY:Not available",
      "TRANSP:OPAQUE",
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return `${lines.map(fold).join("\r\n")}\r\n`;
}
