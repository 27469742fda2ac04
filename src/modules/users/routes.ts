// /users: the caller's profile, password, becoming a host, and public profiles.
import { Elysia, t } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { IdParams } from "../../http/schema";
import { deleteAccount, exportAccount } from "./account";
import { AccountExportDto, DeleteAccountBody } from "./account-schemas";
import { toPublicUserDto, toUserDto } from "./dto";
import { ChangePasswordBody, PublicUserDto, UpdateMeBody, UserDto } from "./schemas";
import { becomeHost, changePassword, publicProfile, updateProfile } from "./service";

export function userRoutes(deps: Deps) {
  const tags = ["users"];
  return new Elysia({ prefix: "/users" })
    .use(authMacro(deps))
    .get("/me", ({ actor }) => toUserDto(actor), {
      auth: true,
      response: { 200: UserDto, ...errorResponses() },
      detail: { tags, summary: "The caller's full profile" },
    })
    .patch("/me", async ({ actor, body }) => toUserDto(await updateProfile({ actor, changes: body }, deps)), {
      auth: true,
      body: UpdateMeBody,
      response: { 200: UserDto, ...errorResponses() },
      detail: { tags, summary: "Update the caller's profile", description: "`null` clears bio, avatarUrl or phone." },
    })
    .post(
      "/me/password",
      async ({ actor, body, set }) => {
        const { headers } = await changePassword({ actor, ...body }, deps);
        Object.assign(set.headers, headers);
        set.status = 204;
      },
      {
        auth: true,
        body: ChangePasswordBody,
        response: { 204: t.Void(), ...errorResponses("invalid_credentials", "rate_limited") },
        detail: {
          tags,
          summary: "Change password",
          description:
            "Revokes every refresh token of the user and every access token issued before (this one too: 401 at their next request); log in again with the new password.",
        },
      },
    )
    .delete(
      "/me",
      async ({ actor, body, set }) => {
        const { headers } = await deleteAccount({ actor, password: body.password }, deps);
        Object.assign(set.headers, headers);
        set.status = 204;
      },
      {
        auth: true,
        body: DeleteAccountBody,
        response: { 204: t.Void(), ...errorResponses("invalid_credentials", "invalid_state", "rate_limited") },
        detail: {
          tags,
          summary: "Delete the caller's account",
          description:
            'Erases the personal data (name becomes "Deleted user"; e-mail, phone, avatar and bio go), revokes every session and unlists every listing. Bookings, payments and reviews stay for the other party\'s records. 409 invalid_state while the user has a confirmed stay ahead or a booking awaiting payment, as guest or as host. Wrong password → 401 invalid_credentials (attempts limited like password changes).',
        },
      },
    )
    .get("/me/export", async ({ actor }) => exportAccount({ actor }, deps), {
      auth: true,
      response: { 200: AccountExportDto, ...errorResponses() },
      detail: {
        tags,
        summary: "Everything stored about the caller",
        description:
          "The profile, sessions, listings, bookings (as guest and as host), payments, reviews written and received, notifications and moderation actions, as one JSON document.",
      },
    })
    .post("/me/host", async ({ actor }) => toUserDto(await becomeHost({ actor }, deps)), {
      auth: true,
      response: { 200: UserDto, ...errorResponses() },
      detail: { tags, summary: "Become a host", description: "Adds the role `host`; doing it twice changes nothing." },
    })
    .get("/:id", async ({ params }) => toPublicUserDto(await publicProfile(params.id, deps)), {
      params: IdParams,
      response: { 200: PublicUserDto, ...errorResponses("not_found") },
      detail: { tags, summary: "A user's public profile", description: "Never e-mail or phone." },
    });
}
