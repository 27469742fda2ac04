// Property rows → answers, field by field.
import type { Static } from "elysia";
import type { properties, propertyPhotos } from "../../db/schema";
import type { PolicyValue, PropertyDto, PropertyTypeValue } from "./schemas";

export type PropertyRow = Omit<typeof properties.$inferSelect, "searchText">;
export type PhotoRow = typeof propertyPhotos.$inferSelect;
export interface HostSummary {
  id: string;
  name: string;
  avatarUrl: string | null;
}
export type PropertyDtoValue = Static<typeof PropertyDto>;

/** Average of all ratings to 2 decimals; null before the first review. */
export function ratingAverage(sum: number, count: number): number | null {
  return count === 0 ? null : Math.round((sum / count) * 100) / 100;
}

export function toPropertyDto(p: PropertyRow, host: HostSummary, photos: PhotoRow[]): PropertyDtoValue {
  return {
    id: p.id,
    hostId: p.hostId,
    host: { id: host.id, name: host.name, avatarUrl: host.avatarUrl },
    title: p.title,
    description: p.description,
    propertyType: p.propertyType as PropertyTypeValue,
    address: {
      line1: p.addressLine1,
      city: p.city,
      ...(p.region !== null ? { region: p.region } : {}),
      ...(p.postalCode !== null ? { postalCode: p.postalCode } : {}),
      country: p.country,
    },
    location: { lat: p.lat, lng: p.lng },
    pricePerNight: p.pricePerNight,
    cleaningFee: p.cleaningFee,
    currency: p.currency,
    maxGuests: p.maxGuests,
    bedrooms: p.bedrooms,
    beds: p.beds,
    bathrooms: p.bathrooms,
    amenities: p.amenities,
    photos: photos
      .sort((a, b) => a.position - b.position)
      .map((ph) => (ph.caption !== null ? { url: ph.url, caption: ph.caption } : { url: ph.url })),
    minNights: p.minNights,
    maxNights: p.maxNights,
    cancellationPolicy: p.cancellationPolicy as PolicyValue,
    status: p.status as "listed" | "unlisted",
    ratingAverage: ratingAverage(p.ratingSum, p.reviewCount),
    reviewCount: p.reviewCount,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
