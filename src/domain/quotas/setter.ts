/**
 * Sets a project's quotas in nova, cinder and neutron, each at the endpoint the Keystone catalog
 * gives for the configured region and interface. A service the catalog lacks is skipped with a
 * note: a cloud without block storage is still a cloud to onboard people to.
 */

import { displayUrl, type KeystoneClient } from '../../keystone/index.js';
import { isKaizenError, KaizenError } from '../../platform/errors.js';
import type { Note } from '../applications/notes.js';
import { CINDER_KEYS, NEUTRON_KEYS, NOVA_KEYS, type QuotaKey, type QuotaValues } from './types.js';

export type QuotaServiceName = 'compute' | 'volume' | 'network';

export interface QuotaService {
  name: QuotaServiceName;
  /** What operators call it, for messages. */
  label: string;
  /** Catalog types, tried in order. */
  types: readonly string[];
  keys: readonly QuotaKey[];
  /** The body's wrapper: nova and cinder take `quota_set`, neutron `quota`. */
  wrapper: 'quota_set' | 'quota';
  url(base: string, projectId: string): string;
}

const id = encodeURIComponent;

export const QUOTA_SERVICES: readonly QuotaService[] = [
  {
    name: 'compute',
    label: 'compute (nova)',
    types: ['compute'],
    keys: NOVA_KEYS,
    wrapper: 'quota_set',
    url: (base, projectId) => `${base}/os-quota-sets/${id(projectId)}`,
  },
  {
    name: 'volume',
    label: 'volume (cinder)',
    types: ['volumev3', 'block-storage', 'volume'],
    keys: CINDER_KEYS,
    wrapper: 'quota_set',
    // Cinder's catalog URL usually ends in the caller's project id; it is the base as given.
    url: (base, projectId) => `${base}/os-quota-sets/${id(projectId)}`,
  },
  {
    name: 'network',
    label: 'network (neutron)',
    types: ['network'],
    keys: NEUTRON_KEYS,
    wrapper: 'quota',
    // Neutron's catalog URL is usually the bare service root; some clouds list it with the version.
    url: (base, projectId) => `${/\/v2\.0$/.test(base) ? base : `${base}/v2.0`}/quotas/${id(projectId)}`,
  },
];

export interface QuotaOutcome {
  /** The services that took their quotas, with what was sent. */
  applied: { service: QuotaServiceName; values: QuotaValues }[];
  /** Services skipped, as lines for the applicant's card. */
  notes: Note[];
}

export interface SetQuotasOptions {
  timeoutMs?: number;
}

/** Only the keys a service knows go to it; a service with none of them is not called. */
export function valuesFor(service: QuotaServiceName, values: QuotaValues): QuotaValues {
  const known = QUOTA_SERVICES.find((s) => s.name === service)?.keys ?? [];
  return Object.fromEntries(Object.entries(values).filter(([key]) => known.includes(key as QuotaKey)));
}

export async function setQuotas(
  keystone: KeystoneClient,
  projectId: string,
  values: QuotaValues,
  options: SetQuotasOptions = {},
): Promise<QuotaOutcome> {
  // The three services are independent: they are asked at once, and the outcome lists them in
  // their fixed order. When several fail, the first in that order is the one reported (the others
  // were still asked, and a retry sets all three again: a quota update is idempotent).
  const results = await Promise.allSettled(
    QUOTA_SERVICES.map(async (service): Promise<ServiceResult> => {
      const wanted = valuesFor(service.name, values);
      if (Object.keys(wanted).length === 0) return { kind: 'unused' };
      const base = await endpointOrSkip(keystone, service);
      if (base === undefined) {
        return { kind: 'skipped', note: { code: 'quota_service_missing', service: service.name } };
      }
      await putQuota(keystone, service, service.url(base, projectId), wanted, options.timeoutMs ?? 15_000);
      return { kind: 'applied', applied: { service: service.name, values: wanted } };
    }),
  );
  const outcome: QuotaOutcome = { applied: [], notes: [] };
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    if (result.value.kind === 'applied') outcome.applied.push(result.value.applied);
    if (result.value.kind === 'skipped') outcome.notes.push(result.value.note);
  }
  return outcome;
}

type ServiceResult =
  | { kind: 'unused' }
  | { kind: 'skipped'; note: Note }
  | { kind: 'applied'; applied: QuotaOutcome['applied'][number] };

/** The service's base URL in the catalog, or undefined when the catalog has none. */
export async function endpointOrSkip(
  keystone: KeystoneClient,
  service: QuotaService,
): Promise<string | undefined> {
  try {
    return (await keystone.endpointFor(service.types)).url.replace(/\/+$/, '');
  } catch (error) {
    if (isKaizenError(error, 'not_found')) return undefined;
    throw error;
  }
}

async function putQuota(
  keystone: KeystoneClient,
  service: QuotaService,
  url: string,
  values: QuotaValues,
  timeoutMs: number,
): Promise<void> {
  await quotaServiceCall(keystone, service, url, {
    method: 'PUT',
    body: { [service.wrapper]: values },
    what: 'quota update',
    timeoutMs,
    invalid: [400],
  });
}

export interface QuotaServiceCall {
  method: 'GET' | 'PUT';
  body?: unknown;
  /** For the error messages: `quota update`, `quota read`. */
  what: string;
  timeoutMs: number;
  /** Statuses that mean the request was wrong (the rest of the failures are the service's). */
  invalid: readonly number[];
}

/** One call to a quota service with the admin token; its answer's text, or a readable error. */
export async function quotaServiceCall(
  keystone: KeystoneClient,
  service: QuotaService,
  url: string,
  call: QuotaServiceCall,
): Promise<string> {
  const token = await keystone.getAdminToken();
  const where = `The ${service.label} service at ${displayUrl(url)}`;
  let response: Response;
  try {
    response = await keystone.fetch(url, {
      method: call.method,
      headers: {
        accept: 'application/json',
        'x-auth-token': token,
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: AbortSignal.timeout(call.timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new KaizenError(
      'unreachable',
      timedOut
        ? `${where} did not answer the ${call.what} within ${call.timeoutMs / 1000} s`
        : `${where} did not answer the ${call.what}: is it running and reachable?`,
      { service: service.name },
    );
  }
  const text = await response.text();
  if (response.ok) return text;
  const said = serviceMessage(text);
  throw new KaizenError(
    call.invalid.includes(response.status) ? 'invalid' : 'upstream',
    `${where} answered HTTP ${response.status} to the ${call.what}${said === undefined ? '' : `: ${said}`}`,
    { service: service.name, status: response.status },
  );
}

/** The message in nova's `{"badRequest": {"message"}}`, neutron's `{"NeutronError": {"message"}}` and the like. */
export function serviceMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  for (const inner of Object.values(body)) {
    if (
      typeof inner === 'object' &&
      inner !== null &&
      'message' in inner &&
      typeof inner.message === 'string'
    ) {
      return inner.message.slice(0, 300);
    }
  }
  return undefined;
}
