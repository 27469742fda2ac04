// /notifications: the caller's in-app notifications.
import { Elysia } from "elysia";
import type { Deps } from "../../dependencies";
import { authMacro } from "../../http/auth";
import { errorResponses } from "../../http/errors";
import { DEFAULT_LIMIT } from "../../http/pagination";
import { IdParams } from "../../http/schema";
import { NotificationDto, NotificationPage, NotificationQuery } from "./schemas";
import { listNotifications, markRead } from "./service";

export function notificationRoutes(deps: Deps) {
  const tags = ["notifications"];
  return new Elysia({ prefix: "/notifications" })
    .use(authMacro(deps))
    .get(
      "",
      ({ actor, query }) =>
        listNotifications({ actor, limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor }, deps),
      {
        auth: true,
        query: NotificationQuery,
        response: { 200: NotificationPage, ...errorResponses() },
        detail: { tags, summary: "The caller's notifications, newest first" },
      },
    )
    .post("/:id/read", ({ actor, params }) => markRead({ actor, id: params.id }, deps), {
      auth: true,
      params: IdParams,
      response: { 200: NotificationDto, ...errorResponses("not_found") },
      detail: { tags, summary: "Mark a notification read (idempotent)" },
    });
}
