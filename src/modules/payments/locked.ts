// A payment with its booking and the booking's host, both rows taken for update — the booking's
// first, in the order decline, cancel and the sweep take them (the booking, then by the database's
// trigger its payment), so a settlement never deadlocks with them. What every settlement begins with.
import { eq, getTableColumns } from "drizzle-orm";
import type { Db } from "../../db/client";
import { bookings, payments, properties } from "../../db/schema";

export async function lockedPayment(tx: Db, paymentId: string) {
  const [row] = await tx
    .select({ payment: getTableColumns(payments), booking: getTableColumns(bookings), hostId: properties.hostId })
    .from(payments)
    .innerJoin(bookings, eq(bookings.id, payments.bookingId))
    .innerJoin(properties, eq(properties.id, bookings.propertyId))
    .where(eq(payments.id, paymentId))
    .for("update", { of: [bookings, payments] });
  return row;
}
