// What stayhub needs of a payment gateway: charge (or authorize, then capture or void), look a
// charge up by its key, refund, read its
// signed webhooks, and list its ledger for reconciliation. The simulated provider (simulated.ts) implements it; a real gateway
// is one more file implementing the same interface (README: "Adding a payment provider").
//
// Every call carries an idempotency key derived from our own ids, so a call repeated after a
// crash, a timeout or a redelivered job gets the provider's first answer back, never a second
// charge or refund.
import { timingSafeEqual } from "node:crypto";

export interface ChargeRequest {
  /** The provider-side idempotency key: the same key is one charge, whatever the number of calls. */
  key: string;
  /** Our payment id, kept by the provider with the charge (what reconciliation matches on). */
  reference: string;
  amount: number;
  currency: string;
  /** An opaque payment-method token (never a card number). */
  paymentMethod: string;
}

export type ChargeResult =
  | { status: "succeeded"; chargeId: string }
  | { status: "failed"; chargeId: string; failureCode: string };

/** An authorization: the amount held on the card, taken only by a capture (request-to-book). */
export type AuthorizeResult =
  | { status: "authorized"; chargeId: string }
  | { status: "failed"; chargeId: string; failureCode: string };

/**
 * A capture of an authorization, whole. Idempotent by state: capturing a captured one answers
 * succeeded again. Refused when it was voided, or lapsed (the provider let it go: the simulated
 * one after AUTHORIZATION_LAPSE_MS), or there is no authorization.
 */
export type CaptureResult =
  | { status: "succeeded"; chargeId: string }
  | { status: "refused"; reason: "voided" | "lapsed" | "not_authorized" };

/** The release of an authorization: idempotent by state; refused once it was captured. */
export type VoidResult = { status: "voided" } | { status: "refused"; reason: "captured" | "not_authorized" };

/** What the provider holds under a key: a charge, or an authorization and what became of it. */
export type ChargeState =
  | { status: "succeeded" | "authorized" | "voided"; chargeId: string }
  | { status: "failed"; chargeId: string; failureCode: string };

export interface RefundRequest {
  key: string;
  chargeId: string;
  amount: number;
}

/** `refundedTotal`: everything refunded of the charge so far, by the provider's books. */
export type RefundResult =
  | { status: "succeeded"; refundId: string; refundedTotal: number }
  | { status: "refused"; reason: "exceeds_charge" | "not_charged"; refundedTotal: number };

/** A payout to a host's payout method (a ba_… token), keyed like a charge: one key, one payout. */
export interface PayoutRequest {
  key: string;
  /** Our payout id. */
  reference: string;
  amount: number;
  currency: string;
  token: string;
}

/** `in_transit`: sent, its outcome told later (a payout.paid or payout.failed webhook). */
export type PayoutResult =
  | { status: "paid" | "in_transit"; payoutRef: string }
  | { status: "failed"; payoutRef: string; failureCode: string };

/** One payout as the provider's books have it. */
export interface LedgerPayout {
  reference: string;
  amount: number;
  currency: string;
  status: "paid" | "in_transit" | "failed";
}

/** The contract's webhook event. */
export interface WebhookEvent {
  id: string;
  type: string;
  created: number;
  data: { paymentId?: string; payoutId?: string; amount?: number; failureCode?: string };
}

/** One charge as the provider's ledger has it. */
export interface LedgerCharge {
  key: string;
  chargeId: string;
  reference: string;
  amount: number;
  currency: string;
  status: "succeeded" | "failed" | "authorized" | "voided";
  refunded: number;
  createdAt: Date;
}

/** The provider did not decide (a timeout, a processing error): the same call may be made again. */
export class TransientProviderError extends Error {
  override readonly name = "TransientProviderError";
}

/** A webhook whose signature is missing, malformed, wrong or stale: nothing of it may be applied. */
export class WebhookSignatureError extends Error {
  override readonly name = "WebhookSignatureError";
}

export interface PaymentProvider {
  readonly name: string;
  /** Throws TransientProviderError when the outcome is unknown or temporarily unavailable. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** Holds the amount without taking it (idempotent by key, like charge). Throws TransientProviderError. */
  authorize(request: ChargeRequest): Promise<AuthorizeResult>;
  /** Takes an authorized amount. Throws TransientProviderError. */
  capture(request: { chargeId: string }): Promise<CaptureResult>;
  /** Releases an authorization. Throws TransientProviderError. */
  void(request: { chargeId: string }): Promise<VoidResult>;
  /**
   * The charge (or authorization) made under `key`, if any, with its refunded total: what a caller
   * whose answer was lost (a timeout, a crash) asks before concluding anything. Throws TransientProviderError.
   */
  lookupCharge(key: string): Promise<(ChargeState & { amount: number; refunded: number }) | null>;
  /** Never refunds more than the charge's amount in total; throws TransientProviderError like charge. */
  refund(request: RefundRequest): Promise<RefundResult>;
  /**
   * Verifies a webhook's signature over its raw bytes and returns the raw body's text; `isFresh`
   * judges the signed timestamp (unix seconds). Throws WebhookSignatureError.
   */
  verifyWebhook(
    rawBody: Uint8Array,
    signature: string | null,
    secret: string,
    isFresh: (unixSeconds: number) => boolean,
  ): string;
  /** The provider's charges created at or after `since`, oldest first, page by page. */
  ledger(since?: Date): AsyncIterable<LedgerCharge[]>;
  /** Pays a host (idempotent by key, like charge). Throws TransientProviderError. */
  payout(request: PayoutRequest): Promise<PayoutResult>;
  /** Every payout the provider made, page by page. */
  payoutLedger(): AsyncIterable<LedgerPayout[]>;
  /**
   * The simulated provider only: a verified event it is told of is its own decision (whoever
   * sent it plays the provider, as a test does), so its books follow it. A real gateway's books
   * are its own: it does not implement this.
   */
  observe?(event: WebhookEvent): Promise<void>;
}

/** `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`: the contract's Payment-Signature header. */
export function signWebhook(secret: string, rawBody: Uint8Array | string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, rawBody)}`;
}

function hmacHex(secret: string, unixSeconds: number, rawBody: Uint8Array | string): string {
  const body = typeof rawBody === "string" ? new TextEncoder().encode(rawBody) : rawBody;
  const prefix = new TextEncoder().encode(`${unixSeconds}.`);
  const message = new Uint8Array(prefix.byteLength + body.byteLength);
  message.set(prefix, 0);
  message.set(body, prefix.byteLength);
  return new Bun.CryptoHasher("sha256", secret).update(message).digest("hex");
}

/** Constant-time equality of two hex strings (of any lengths: a length mismatch is simply false). */
function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  if (x.byteLength !== y.byteLength) return false;
  return timingSafeEqual(x, y);
}

/**
 * The contract's signature check — one `v1` of the header (a provider rotating secrets sends
 * several) matching the HMAC of `"<t>.<raw body>"`, and `t` fresh. Throws WebhookSignatureError.
 */
export function verifySignature(
  rawBody: Uint8Array,
  header: string | null,
  secret: string,
  isFresh: (unixSeconds: number) => boolean,
): void {
  if (!header) throw new WebhookSignatureError("Missing Payment-Signature header");
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === "t" && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (name === "v1" && /^[0-9a-f]{64}$/i.test(value)) v1.push(value.toLowerCase());
  }
  if (t === undefined || v1.length === 0)
    throw new WebhookSignatureError('Malformed Payment-Signature header; expected "t=<unix seconds>,v1=<hex>"');
  const expected = hmacHex(secret, t, rawBody);
  // Every candidate is compared (no early exit), each in constant time.
  let ok = false;
  for (const candidate of v1) ok = sameHex(candidate, expected) || ok;
  if (!ok) throw new WebhookSignatureError("The Payment-Signature does not match the body");
  if (!isFresh(t)) throw new WebhookSignatureError("The Payment-Signature timestamp is outside the 5-minute tolerance");
}
