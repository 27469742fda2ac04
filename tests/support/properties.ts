// Helpers for tests that need hosts and listings.
import type { Call, Registered } from "./app";
import { registerUser } from "./app";

export async function registerHost(call: Call, name = "Hannah Host"): Promise<Registered> {
  const u = await registerUser(call, { name });
  const res = await call("POST", "/api/v1/users/me/host", { token: u.accessToken });
  if (res.status !== 200) throw new Error(`become host failed: ${res.status}`);
  return u;
}

export function listing(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: "Sunny loft by the river",
    description: "Two rooms, a balcony and a view of the river.",
    propertyType: "apartment",
    address: { line1: "Rua Augusta 10", city: "Lisbon", postalCode: "1100-053", country: "PT" },
    location: { lat: 38.7107, lng: -9.1366 },
    pricePerNight: 12_000,
    cleaningFee: 3_000,
    currency: "EUR",
    maxGuests: 4,
    bedrooms: 2,
    beds: 2,
    bathrooms: 1.5,
    amenities: ["wifi", "kitchen"],
    photos: [
      { url: "https://img.example.com/1.jpg", caption: "Living room" },
      { url: "https://img.example.com/2.jpg" },
    ],
    minNights: 1,
    maxNights: 30,
    cancellationPolicy: "moderate",
    ...overrides,
  };
}

export async function createListing(
  call: Call,
  host: Registered,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, unknown> & { id: string }> {
  const res = await call<Record<string, unknown> & { id: string }>("POST", "/api/v1/properties", {
    token: host.accessToken,
    body: listing(overrides),
  });
  if (res.status !== 201) throw new Error(`create listing failed: ${res.status} ${res.text}`);
  return res.body;
}
