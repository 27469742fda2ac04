// One redaction step for every structured log line: secrets and personal data never reach the log,
// whichever message, error, stack or field carried them.

/**
 * Fields whose values are secrets or personal data, whatever they hold: names ending in these
 * (apiKey, x-api-key, paymentWebhookSecret, set-cookie, passwordHash…), and a few exact names.
 */
const SECRET_KEY = /(password|passwd|secret|token|api[-_]?key|cookie|authorization|hash)$/i;
const PERSONAL_KEYS = new Set(["email", "phone", "params", "parameters"]);
const isSecretKey = (key: string) => SECRET_KEY.test(key) || PERSONAL_KEYS.has(key.toLowerCase());

const PATTERNS: [RegExp, string][] = [
  // Drizzle appends a failed statement's parameters ("params: a,b,c") to its message and stack.
  [/params: [^\n]*/g, "params: [redacted]"],
  [/\$argon2(?:id|i|d)\$[^\s",]*/g, "[redacted hash]"],
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "[redacted token]"],
  [/\bBearer\s+[^\s",]+/gi, "Bearer [redacted]"],
  // Connection strings with a password (before e-mails, which look alike): postgres://user:secret@host, redis://:secret@host.
  [/([a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s]+@/gi, "$1[redacted]@"],
  // An address, but not the user part of a URL (postgres://app@db.example.com keeps its host).
  [/(?<!:\/\/[^\s@/]*)\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, "[redacted e-mail]"],
];

/** `text` with every secret-looking run replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A JSON.stringify replacer: secret fields by name, secret-looking text anywhere. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key && isSecretKey(key) && value !== null && value !== undefined) return "[redacted]";
  return typeof value === "string" ? redactText(value) : value;
}
