// How a payment's settlement is timed, from the configuration: a request's expiry
// (REQUEST_EXPIRY_HOURS) and the release of a capture to the host (PAYOUT_RELEASE_HOURS).
/** What a request's authorization holds for: REQUEST_EXPIRY_HOURS. */
export const requestMsOf = (config: { requestExpiryHours: number }) => config.requestExpiryHours * 3_600_000;

/** How a settlement is timed: its e-mail job, a request's expiry, the release of a capture (from config). */
export interface SettleOptions {
  attempts?: number;
  emailsAt?: Date;
  requestMs: number;
  releaseMs: number;
}

/** The settlement timings of `config`: REQUEST_EXPIRY_HOURS and PAYOUT_RELEASE_HOURS. */
export const timingsOf = (config: {
  requestExpiryHours: number;
  payoutReleaseHours: number;
}): Pick<SettleOptions, "requestMs" | "releaseMs"> => ({
  requestMs: requestMsOf(config),
  releaseMs: config.payoutReleaseHours * 3_600_000,
});
