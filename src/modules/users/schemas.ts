// User DTOs: the full profile for its owner, the public profile for everyone else.
import { t } from "elysia";
import { Int, Nullable, Num, strictObject, Timestamp, Uuid } from "../../http/schema";

export const Role = t.Union([t.Literal("guest"), t.Literal("host"), t.Literal("admin")]);

export const UserDto = t.Object(
  {
    id: Uuid,
    email: t.String(),
    name: t.String(),
    bio: Nullable(t.String()),
    avatarUrl: Nullable(t.String()),
    phone: Nullable(t.String()),
    roles: t.Array(Role),
    emailVerified: t.Boolean({
      description: "the address was confirmed with the token e-mailed to it (POST /auth/verify-email)",
    }),
    createdAt: Timestamp,
  },
  { title: "User" },
);

export const PublicUserDto = t.Object(
  {
    id: Uuid,
    name: t.String(),
    bio: Nullable(t.String()),
    avatarUrl: Nullable(t.String()),
    isHost: t.Boolean(),
    guestRatingAverage: Nullable(
      Num({
        minimum: 1,
        maximum: 5,
        description: "the average of the ratings hosts gave this user as a guest, 2 decimals; null before the first",
      }),
    ),
    guestReviewCount: Int({ minimum: 0, description: "how many hosts reviewed this user as a guest" }),
    createdAt: Timestamp,
  },
  { title: "PublicUser" },
);

export const Email = t.String({ format: "email", maxLength: 254, description: "case-insensitive; stored lower-case" });
export const Password = t.String({ minLength: 10, maxLength: 128 });
export const PersonName = t.String({ minLength: 1, maxLength: 100, pattern: "\\S" });
const HttpsUrl = t.String({ format: "uri", pattern: "^https://", maxLength: 2048, description: "an https:// URL" });
const Phone = t.String({
  pattern: "^\\+?[0-9][0-9 ()-]{4,24}$",
  description: "a phone number: digits, spaces, parentheses, dashes; optional leading +",
});

export const UpdateMeBody = strictObject(
  {
    name: t.Optional(PersonName),
    bio: t.Optional(Nullable(t.String({ maxLength: 2000 }))),
    avatarUrl: t.Optional(Nullable(HttpsUrl)),
    phone: t.Optional(Nullable(Phone)),
  },
  {
    title: "UpdateMe",
    examples: [
      {
        name: "Ada King",
        bio: "Mathematician; writes the first programs.",
        phone: "+44 20 7946 0000",
        avatarUrl: null,
      },
    ],
  },
);

export const ChangePasswordBody = strictObject(
  { currentPassword: t.String({ minLength: 1, maxLength: 128 }), newPassword: Password },
  {
    title: "ChangePassword",
    examples: [{ currentPassword: "correct horse battery", newPassword: "another long passphrase" }],
  },
);
