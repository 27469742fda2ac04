// Wishlists and date alerts: the bodies allowed and the Wishlist and Alert of the contract.
import { type Static, t } from "elysia";
import { Page, PageQuery } from "../../http/pagination";
import { Int, strictObject, Timestamp, Uuid } from "../../http/schema";

/** How many lists one user may keep, and how many alerts may wait for them at once. */
export const MAX_WISHLISTS = 50;
export const MAX_WAITING_ALERTS = 20;

const Name = t.String({ minLength: 1, maxLength: 100, description: "1–100 characters (trimmed)" });

export const WishlistBody = strictObject({ name: Name }, { examples: [{ name: "Summer by the sea" }] });

export const WishlistDto = t.Object(
  {
    id: Uuid,
    name: t.String(),
    propertyCount: Int({ minimum: 0, description: "the listings on it that are still visible (listed)" }),
    createdAt: Timestamp,
  },
  { title: "Wishlist" },
);
export type WishlistDtoValue = Static<typeof WishlistDto>;
export const WishlistPage = Page(WishlistDto, "WishlistPage");

export const WishlistPropertyParams = t.Object({ id: Uuid, propertyId: Uuid });

const Day = (description: string) => t.String({ format: "date", description });

export const AlertBody = strictObject(
  {
    // Not format uuid: an id that names no property, well-formed or not, is the contract's 404.
    propertyId: t.String({
      minLength: 1,
      maxLength: 64,
      description: "the property's id; one that does not exist → 404",
    }),
    checkIn: Day("the first night, YYYY-MM-DD; today or later (service clock, UTC)"),
    checkOut: Day("the day the stay ends (exclusive), YYYY-MM-DD"),
    guests: Int({ minimum: 1, maximum: 50, description: "1 to the listing's maxGuests" }),
  },
  {
    examples: [
      { propertyId: "0190f1d2-3c4b-7a6e-9d8c-1b2a3c4d5e6f", checkIn: "2031-07-01", checkOut: "2031-07-05", guests: 2 },
    ],
  },
);

export const AlertStatusSchema = t.Union([t.Literal("waiting"), t.Literal("notified"), t.Literal("expired")]);

export const AlertDto = t.Object(
  {
    id: Uuid,
    propertyId: Uuid,
    checkIn: t.String({ format: "date" }),
    checkOut: t.String({ format: "date" }),
    guests: Int({ minimum: 1 }),
    status: AlertStatusSchema,
    createdAt: Timestamp,
  },
  { title: "Alert" },
);
export type AlertDtoValue = Static<typeof AlertDto>;
export const AlertPage = Page(AlertDto, "AlertPage");

export const ListQuery = t.Object({ ...PageQuery });
