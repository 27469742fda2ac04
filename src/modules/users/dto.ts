// Table rows → answers. Written out field by field so a new column never leaks by accident.
import type { Static } from "elysia";
import type { users } from "../../db/schema";
import type { PublicUserDto, UserDto } from "./schemas";

export type UserRow = typeof users.$inferSelect;
type Role = Static<typeof UserDto>["roles"][number];

export function toUserDto(u: UserRow): Static<typeof UserDto> {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    bio: u.bio,
    avatarUrl: u.avatarUrl,
    phone: u.phone,
    roles: u.roles as Role[],
    emailVerified: u.emailVerifiedAt !== null,
    createdAt: u.createdAt.toISOString(),
  };
}

export function toPublicUserDto(u: UserRow): Static<typeof PublicUserDto> {
  return {
    id: u.id,
    name: u.name,
    bio: u.bio,
    avatarUrl: u.avatarUrl,
    isHost: u.roles.includes("host"),
    guestRatingAverage:
      u.guestReviewCount === 0 ? null : Math.round((u.guestRatingSum * 100) / u.guestReviewCount) / 100,
    guestReviewCount: u.guestReviewCount,
    createdAt: u.createdAt.toISOString(),
  };
}
