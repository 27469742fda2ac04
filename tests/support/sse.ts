// Reading GraphQL subscriptions over server-sent events in tests.
import type { Registered, TestApp } from "./app";

/** Opens `bookingUpdated(id)` as `as`, over server-sent events, selecting `fields`. */
export function subscribeBooking(
  app: TestApp,
  bookingId: string,
  as: Registered,
  fields = "id status payments { status }",
) {
  return app.app.handle(
    new Request("http://localhost/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${as.accessToken}`,
      },
      body: JSON.stringify({
        query: `subscription($id: ID!) { bookingUpdated(id: $id) { ${fields} } }`,
        variables: { id: bookingId },
      }),
    }),
  );
}

/** The status a bookingUpdated event pushed. */
export const statusOf = (e: unknown) =>
  (e as { data?: { bookingUpdated?: { status: string } } }).data?.bookingUpdated?.status;

/** Reads a server-sent event stream: each `event: next` data, until it completes or `until` says stop. */
export async function events(
  res: Response,
  until: (data: unknown[]) => boolean,
  timeoutMs = 5_000,
): Promise<{ data: unknown[]; completed: boolean }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const data: unknown[] = [];
  let buffer = "";
  let completed = false;
  const deadline = Date.now() + timeoutMs;
  while (!completed && !until(data) && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(Math.max(1, deadline - Date.now())).then(() => null)]);
    if (!chunk || chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let at = buffer.indexOf("\n\n");
    while (at >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const event = /^event: (\w+)/m.exec(block)?.[1];
      const payload = /^data: (.*)$/m.exec(block)?.[1];
      if (event === "next" && payload) data.push(JSON.parse(payload));
      if (event === "complete") completed = true;
      at = buffer.indexOf("\n\n");
    }
  }
  // Let go, so the caller may read on or cancel the stream (a client leaving).
  try {
    reader.releaseLock();
  } catch {}
  return { data, completed };
}
