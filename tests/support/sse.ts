// Reading GraphQL subscriptions over server-sent events in tests.

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
