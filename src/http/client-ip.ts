// The caller's address: the socket's, or, when TRUST_PROXY is on, the address our own proxy
// appended to X-Forwarded-For (the rightmost entry; everything left of it the client can forge).
import type { Server } from "bun";

export function clientIp(request: Request, server: Server<unknown> | null, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",").pop()?.trim();
    if (forwarded) return forwarded;
  }
  return server?.requestIP(request)?.address ?? "unknown";
}
