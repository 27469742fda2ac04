// /auth: register, login, refresh, logout (one session or every one).
import { Elysia, type Static, t } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro } from "../../http/auth";
import { clientIp } from "../../http/client-ip";
import { errorResponses } from "../../http/errors";
import { toUserDto } from "../users/dto";
import { resendVerification, verifyEmail } from "./email-verification";
import { confirmPasswordReset, requestPasswordReset } from "./password-reset";
import {
  Accepted,
  LoginBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  RefreshBody,
  RegisterBody,
  ResetAccepted,
  SessionDto,
  VerifyEmailBody,
} from "./schemas";
import { login, logout, logoutEverywhere, refresh, register, type Session } from "./service";

export function authRoutes(deps: Deps) {
  const toSessionDto = (s: Session): Static<typeof SessionDto> => ({
    user: toUserDto(s.user),
    accessToken: s.accessToken,
    refreshToken: s.refreshToken,
    tokenType: "Bearer",
    expiresIn: deps.config.accessTokenTtlSeconds,
  });
  const tags = ["auth"];

  return new Elysia({ prefix: "/auth" })
    .use(authMacro(deps))
    .post(
      "/register",
      async ({ body, set, request, server }) => {
        const { value, headers } = await register(
          { ...body, ip: clientIp(request, server, deps.config.trustProxy) },
          deps,
        );
        Object.assign(set.headers, headers);
        set.status = 201;
        return toSessionDto(value);
      },
      {
        body: RegisterBody,
        response: { 201: SessionDto, ...errorResponses("email_taken", "rate_limited") },
        detail: {
          tags,
          summary: "Create an account",
          description:
            "E-mail is case-insensitive unique; password 10–128 characters. Registrations are limited per client address (REGISTER_RATE_LIMIT per REGISTER_RATE_WINDOW_SECONDS, default 20 an hour).",
        },
      },
    )
    .post(
      "/login",
      async ({ body, set, request, server }) => {
        const ip = clientIp(request, server, deps.config.trustProxy);
        const { value, headers } = await login({ ...body, ip }, deps);
        Object.assign(set.headers, headers);
        return toSessionDto(value);
      },
      {
        body: LoginBody,
        response: { 200: SessionDto, ...errorResponses("invalid_credentials", "forbidden", "rate_limited") },
        detail: {
          tags,
          summary: "Log in",
          description:
            "Unknown e-mail and wrong password get the same 401. Repeated failures per IP and e-mail get 429 with Retry-After.",
        },
      },
    )
    .post("/refresh", async ({ body }) => toSessionDto(await refresh(body.refreshToken, deps)), {
      body: RefreshBody,
      response: { 200: SessionDto, ...errorResponses("unauthenticated", "token_expired", "forbidden") },
      detail: {
        tags,
        summary: "Trade a refresh token for a new pair",
        description: "The token is spent; presenting it again revokes its whole family.",
      },
    })
    .post(
      "/logout",
      async ({ actor, body, set }) => {
        await logout({ actor, refreshToken: body.refreshToken }, deps);
        set.status = 204;
      },
      {
        auth: true,
        body: RefreshBody,
        response: { 204: t.Void(), ...errorResponses() },
        detail: { tags, summary: "Log out", description: "Revokes the refresh token's family." },
      },
    )
    .post(
      "/logout-all",
      async ({ actor, set }) => {
        await logoutEverywhere({ actor }, deps);
        set.status = 204;
      },
      {
        auth: true,
        response: { 204: t.Void(), ...errorResponses() },
        detail: {
          tags,
          summary: "Log out everywhere",
          description:
            "Revokes every refresh-token family of the caller and every access token issued so far (this one too): each is 401 at its next request, on every instance, and the caller's live GraphQL subscriptions end. Log in again for a new pair.",
        },
      },
    )
    .post(
      "/verify-email",
      async ({ body, set }) => {
        await verifyEmail(body.token, deps);
        set.status = 204;
      },
      {
        body: VerifyEmailBody,
        response: { 204: t.Void(), ...errorResponses("invalid_token") },
        detail: {
          tags,
          summary: "Verify the e-mail address with the e-mailed token",
          description:
            "Registering e-mails a single-use token valid 24 hours. A used, expired or unknown token, or one issued for another purpose → 400 invalid_token. With EMAIL_VERIFICATION=required (the default in production), listing a property and booking a stay need a verified address (403 email_unverified).",
          "x-rate-limit-headers": false,
        },
      },
    )
    .post(
      "/verify-email/resend",
      async ({ actor, set }) => {
        Object.assign(set.headers, await resendVerification(actor, deps));
        set.status = 202;
        return { status: "accepted" as const };
      },
      {
        auth: true,
        response: { 202: Accepted, ...errorResponses("invalid_state", "rate_limited") },
        detail: {
          tags,
          summary: "E-mail a new verification token",
          description:
            "At most one e-mail a minute and 5 requests an hour per user (429 rate_limited past that); 409 invalid_state when the address is verified already.",
        },
      },
    )
    .post(
      "/password-reset",
      async ({ body, set, request, server }) => {
        const headers = await requestPasswordReset(body.email, clientIp(request, server, deps.config.trustProxy), deps);
        Object.assign(set.headers, headers);
        set.status = 202;
        return { status: "accepted" as const };
      },
      {
        body: PasswordResetBody,
        response: { 202: ResetAccepted, ...errorResponses("rate_limited") },
        detail: {
          tags,
          summary: "Ask for a password reset e-mail",
          description:
            "Always 202, whether or not an account has the address (and in the same time: the request only enqueues a job). An active account gets an e-mail with a single-use token valid 30 minutes; at most one e-mail per address per minute; requests per client address are limited (PASSWORD_RESET_RATE_LIMIT per PASSWORD_RESET_RATE_WINDOW_SECONDS, default 10 an hour; 429 rate_limited).",
        },
      },
    )
    .post(
      "/password-reset/confirm",
      async ({ body, set }) => {
        await confirmPasswordReset({ token: body.token, newPassword: body.newPassword }, deps);
        set.status = 204;
      },
      {
        body: PasswordResetConfirmBody,
        response: { 204: t.Void(), ...errorResponses("invalid_token") },
        detail: {
          tags,
          summary: "Set a new password with the e-mailed token",
          description:
            "Revokes every refresh token of the account and every access token issued before (401 at their next request). A used, expired or unknown token, or one issued for another purpose → 400 invalid_token.",
          "x-rate-limit-headers": false,
        },
      },
    );
}
