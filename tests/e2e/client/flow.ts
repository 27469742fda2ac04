// A new client developer's first script: types generated from the served OpenAPI document
// (api.d.ts, by openapi-typescript), calls made with openapi-fetch, and no casts anywhere. It
// registers, logs in, becomes a host, lists a property, finds it, reads it again with its ETag
// (304) and reads its availability. `bun tests/e2e/client/flow.ts http://127.0.0.1:3000`
import createClient from "openapi-fetch";
import type { components, paths } from "./api";

type Property = components["schemas"]["Property"];
type Problem = components["schemas"]["Problem"];
// The 304 answer is typed: it has an ETag header and no body.
type NotModified = paths["/api/v1/properties/{id}"]["get"]["responses"][304];
const notModifiedHasNoBody: NotModified["content"] = undefined;

const baseUrl = process.argv[2] ?? "http://127.0.0.1:3000";
const client = createClient<paths>({ baseUrl });

function fail(step: string, status: number, problem?: Problem): never {
  throw new Error(`${step}: ${status} ${problem ? `${problem.code}: ${problem.detail}` : ""}`);
}

const email = `client-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
const password = "a long enough password";

const registered = await client.POST("/api/v1/auth/register", { body: { email, password, name: "Client Developer" } });
if (!registered.data) fail("register", registered.response.status, registered.error);
console.log(`registered ${registered.data.user.email} (${registered.response.status})`);

const login = await client.POST("/api/v1/auth/login", { body: { email, password } });
if (!login.data) fail("login", login.response.status, login.error);
const limit: number = Number(login.response.headers.get("RateLimit-Limit"));
console.log(`logged in, token expires in ${login.data.expiresIn} s, login limit ${limit}`);

const headers = { Authorization: `Bearer ${login.data.accessToken}` };
const host = await client.POST("/api/v1/users/me/host", { headers });
if (!host.data) fail("become host", host.response.status, host.error);
const roles: ("guest" | "host" | "admin")[] = host.data.roles;
console.log(`roles: ${roles.join(", ")}`);

const city = `Clientville ${Date.now()}`;
const created = await client.POST("/api/v1/properties", {
  headers,
  body: {
    title: "Typed loft",
    propertyType: "apartment",
    address: { line1: "1 Schema Street", city, country: "DE" },
    location: { lat: 52.52, lng: 13.405 },
    pricePerNight: 9900,
    cleaningFee: 1500,
    currency: "EUR",
    maxGuests: 3,
    amenities: ["wifi"],
    cancellationPolicy: "flexible",
  },
});
if (!created.data) fail("create property", created.response.status, created.error);
const property: Property = created.data;
const price: number = property.pricePerNight;
console.log(`created property ${property.id} at ${price} ${property.currency} per night (${created.response.status})`);

const found = await client.GET("/api/v1/properties", { params: { query: { city, guests: 2, limit: 5 } } });
if (!found.data) fail("search", found.response.status, found.error);
const ids = found.data.data.map((p) => p.id);
if (!ids.includes(property.id)) fail("search did not find the property", found.response.status);
console.log(`search found ${found.data.data.length} property, nextCursor ${found.data.nextCursor}`);

const read = await client.GET("/api/v1/properties/{id}", { params: { path: { id: property.id } } });
if (!read.data) fail("read", read.response.status, read.error);
const etag = read.response.headers.get("ETag");
if (!etag) fail("read without ETag", read.response.status);
const again = await client.GET("/api/v1/properties/{id}", {
  params: { path: { id: property.id }, header: { "If-None-Match": etag } },
});
if (again.response.status !== 304 || again.data !== undefined) fail("conditional read", again.response.status);
console.log(`read ${read.data.title} with ETag ${etag}; again with If-None-Match: ${again.response.status}`);

const days = await client.GET("/api/v1/properties/{id}/availability", {
  params: { path: { id: property.id }, query: { from: "2030-01-01", to: "2030-01-04" } },
});
if (!days.data) fail("availability", days.response.status, days.error);
console.log(
  `availability: ${days.data.days.map((d) => `${d.date} ${d.available ? "free" : "taken"} ${d.price}`).join("; ")}`,
);

const wrong = await client.GET("/api/v1/properties", { params: { query: { limit: 0 } } });
if (!wrong.error) fail("limit=0 was accepted", wrong.response.status);
const problem: Problem = wrong.error;
console.log(
  `limit=0: ${wrong.response.status} ${problem.code} ${problem.errors?.[0]?.path} ${problem.errors?.[0]?.message}`,
);
console.log(`done${notModifiedHasNoBody ?? ""}`);
