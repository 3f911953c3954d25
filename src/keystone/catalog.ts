import type { Catalog } from './schemas.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface EndpointQuery {
  interface?: EndpointInterface;
  /** When absent, an endpoint in any region will do. */
  region?: string;
}

export interface FoundEndpoint {
  /** The service type that matched, one of the types asked for. */
  type: string;
  url: string;
  interface: EndpointInterface;
  region: string | undefined;
}

/**
 * The first endpoint for `types`, tried in order: services are renamed across releases (cinder is
 * `volumev3`, `block-storage` or `volume` depending on the cloud), so callers list the names they accept.
 */
export function findEndpoint(
  catalog: Catalog,
  types: readonly string[],
  query: EndpointQuery = {},
): FoundEndpoint | undefined {
  const wanted = query.interface ?? 'public';
  for (const type of types) {
    for (const service of catalog) {
      if (service.type !== type) continue;
      const endpoint = service.endpoints.find(
        (candidate) =>
          candidate.interface === wanted && (query.region === undefined || candidate.region === query.region),
      );
      if (endpoint !== undefined) {
        return { type, url: endpoint.url, interface: wanted, region: endpoint.region };
      }
    }
  }
  return undefined;
}

/** What a catalog offers, for error messages that help someone fix a wrong region or interface. */
export function describeCatalog(catalog: Catalog): string {
  if (catalog.length === 0) return 'the catalog is empty';
  return catalog
    .map((service) => {
      const places = service.endpoints.map((e) => `${e.interface}@${e.region ?? 'any region'}`);
      return `${service.type} (${[...new Set(places)].join(', ')})`;
    })
    .join('; ');
}
