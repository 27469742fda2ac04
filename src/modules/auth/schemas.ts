// Auth DTOs.
import { t } from "elysia";
import { Int, strictObject } from "../../http/schema";
import { Email, Password, PersonName, UserDto } from "../users/schemas";

export const RegisterBody = strictObject(
  { email: Email, password: Password, name: PersonName },
  {
    title: "Register",
    examples: [{ email: "ada@example.com", password: "correct horse battery", name: "Ada Lovelace" }],
  },
);
export const LoginBody = strictObject(
  { email: t.String({ minLength: 1, maxLength: 254 }), password: t.String({ minLength: 1, maxLength: 128 }) },
  { title: "Login", examples: [{ email: "ada@example.com", password: "correct horse battery" }] },
);
export const RefreshBody = strictObject(
  { refreshToken: t.String({ minLength: 1, maxLength: 512 }) },
  { title: "RefreshToken", examples: [{ refreshToken: "Xq3v…the refresh token from /auth/login" }] },
);

export const SessionDto = t.Object(
  {
    user: UserDto,
    accessToken: t.String({ description: "JWT (HS256) for `Authorization: Bearer`" }),
    refreshToken: t.String({ description: "opaque, single-use; trade it at /auth/refresh" }),
    tokenType: t.Literal("Bearer"),
    expiresIn: Int({ description: "access token lifetime in seconds" }),
  },
  { title: "Session" },
);

export const PasswordResetBody = strictObject(
  { email: Email },
  { title: "PasswordReset", examples: [{ email: "ana@example.com" }] },
);

export const PasswordResetConfirmBody = strictObject(
  {
    token: t.String({ minLength: 1, maxLength: 200, description: "the token from the e-mail" }),
    newPassword: Password,
  },
  {
    title: "PasswordResetConfirm",
    examples: [{ token: "q3Vh0Yx1b8s2mY5hY2x0c2VjcmV0LXRva2VuLWV4YW1wbGU", newPassword: "a new long password" }],
  },
);

export const VerifyEmailBody = strictObject(
  { token: t.String({ minLength: 1, maxLength: 200, description: "the token from the verification e-mail" }) },
  { title: "VerifyEmail", examples: [{ token: "q3Vh0Yx1b8s2mY5hY2x0c2VjcmV0LXRva2VuLWV4YW1wbGU" }] },
);

export const Accepted = t.Object({ status: t.Literal("accepted") }, { title: "Accepted" });

export const ResetAccepted = t.Object(
  { status: t.Literal("accepted", { description: "the same answer whether or not an account has the address" }) },
  { title: "PasswordResetAccepted" },
);
