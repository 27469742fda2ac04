// Who may see or act on a booking: its guest and the property's host. Every booking, payment and
// review verb an actor calls begins with `bookingFor` — from REST and GraphQL alike — and everyone
// else gets the same 404 as an id that does not exist.
import { eq, getTableColumns } from "drizzle-orm";
import type { Db } from "../../db/client";
import { bookings, properties } from "../../db/schema";
import { notFound } from "../../http/errors";
import { isUuid } from "../../lib/ids";
import type { Actor } from "../auth/actor";
import type { BookingRow } from "./dto";

export interface BookingAccess {
  booking: BookingRow;
  /** The property's host. */
  hostId: string;
  /** How the actor stands to the booking. */
  role: "guest" | "host";
}

/** The booking as `actor` may see it; `lock` takes its row for update (in `db`'s transaction). */
export async function bookingFor(
  actor: Pick<Actor, "id">,
  id: string,
  db: Db,
  options: { lock?: boolean } = {},
): Promise<BookingAccess> {
  if (!isUuid(id)) throw notFound("Booking");
  const query = db
    .select({ booking: getTableColumns(bookings), hostId: properties.hostId })
    .from(bookings)
    .innerJoin(properties, eq(properties.id, bookings.propertyId))
    .where(eq(bookings.id, id));
  const [row] = options.lock ? await query.for("update", { of: bookings }) : await query;
  if (!row) throw notFound("Booking");
  const role = row.booking.guestId === actor.id ? "guest" : row.hostId === actor.id ? "host" : null;
  if (!role) throw notFound("Booking");
  return { booking: row.booking, hostId: row.hostId, role };
}
