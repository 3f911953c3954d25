import { describe, expect, it } from 'vitest';
import { describeCatalog, findEndpoint } from '../../src/keystone/catalog.js';
import { v3Base } from '../../src/keystone/http.js';
import { catalogSchema } from '../../src/keystone/schemas.js';

const endpoint = (iface: string, region: string, url: string) => ({
  id: `${iface}-${region}`,
  interface: iface,
  region_id: region,
  region,
  url,
});

// The shape Keystone returns in a token body, snake_case and all.
const catalog = catalogSchema.parse([
  {
    type: 'compute',
    name: 'nova',
    endpoints: [
      endpoint('public', 'RegionOne', 'https://nova.one/v2.1'),
      endpoint('internal', 'RegionOne', 'http://nova.one.internal/v2.1'),
      endpoint('public', 'RegionTwo', 'https://nova.two/v2.1'),
    ],
  },
  {
    type: 'volume',
    name: 'cinder',
    endpoints: [endpoint('public', 'RegionOne', 'https://cinder.one/v1/p1')],
  },
  {
    type: 'volumev3',
    name: 'cinderv3',
    endpoints: [endpoint('public', 'RegionTwo', 'https://cinder.two/v3/p1')],
  },
  {
    type: 'network',
    name: 'neutron',
    endpoints: [{ id: 'n', interface: 'public', region: 'RegionOne', url: 'https://neutron.one' }],
  },
]);

describe('findEndpoint', () => {
  it('takes the first type, in the order given, that has a matching endpoint', () => {
    const cinder = ['volumev3', 'block-storage', 'volume'];
    expect(findEndpoint(catalog, cinder, { region: 'RegionTwo' })?.url).toBe('https://cinder.two/v3/p1');
    expect(findEndpoint(catalog, cinder, { region: 'RegionOne' })).toMatchObject({
      type: 'volume',
      url: 'https://cinder.one/v1/p1',
    });
  });

  it('matches the interface, public by default', () => {
    expect(findEndpoint(catalog, ['compute'], { region: 'RegionOne' })?.url).toBe('https://nova.one/v2.1');
    expect(findEndpoint(catalog, ['compute'], { region: 'RegionOne', interface: 'internal' })?.url).toBe(
      'http://nova.one.internal/v2.1',
    );
    expect(findEndpoint(catalog, ['compute'], { region: 'RegionTwo', interface: 'admin' })).toBeUndefined();
  });

  it('matches the region, and any region when none is asked for', () => {
    expect(findEndpoint(catalog, ['compute'], { region: 'RegionTwo' })).toEqual({
      type: 'compute',
      url: 'https://nova.two/v2.1',
      interface: 'public',
      region: 'RegionTwo',
    });
    expect(findEndpoint(catalog, ['compute'])?.url).toBe('https://nova.one/v2.1');
    expect(findEndpoint(catalog, ['compute'], { region: 'RegionThree' })).toBeUndefined();
  });

  it('reads the region from `region` when `region_id` is absent', () => {
    expect(findEndpoint(catalog, ['network'], { region: 'RegionOne' })?.url).toBe('https://neutron.one');
  });

  it('finds nothing for a type the catalog lacks', () => {
    expect(findEndpoint(catalog, ['placement'])).toBeUndefined();
    expect(findEndpoint([], ['compute'])).toBeUndefined();
  });

  it('describes what a catalog offers, for error messages', () => {
    expect(describeCatalog(catalog)).toContain(
      'compute (public@RegionOne, internal@RegionOne, public@RegionTwo)',
    );
    expect(describeCatalog([])).toBe('the catalog is empty');
  });
});

describe('v3Base', () => {
  it('accepts an auth URL with or without /v3 and trailing slashes', () => {
    expect(v3Base('http://k:5000')).toBe('http://k:5000/v3');
    expect(v3Base('http://k:5000/')).toBe('http://k:5000/v3');
    expect(v3Base('http://k:5000/v3/')).toBe('http://k:5000/v3');
    expect(v3Base('https://cloud/identity')).toBe('https://cloud/identity/v3');
  });
});
