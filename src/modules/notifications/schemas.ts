// Notification DTOs.
import { t } from "elysia";
import { Page, PageOnlyQuery } from "../../http/pagination";
import { Nullable, Timestamp, Uuid } from "../../http/schema";

export const NotificationDto = t.Object(
  {
    id: Uuid,
    type: t.String({ description: "e.g. welcome, booking_confirmed" }),
    title: t.String(),
    body: t.String(),
    data: t.Record(t.String(), t.Unknown()),
    readAt: Nullable(Timestamp),
    createdAt: Timestamp,
  },
  { title: "Notification" },
);

export const NotificationPage = Page(NotificationDto, "NotificationPage");
export const NotificationQuery = PageOnlyQuery;
