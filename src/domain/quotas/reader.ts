/**
 * Reads a project's quotas and what it uses of them from nova, cinder and neutron, each at the
 * endpoint the Keystone catalog gives (as the setter sets them). A service the catalog lacks is
 * skipped with a note, as the setter skips it.
 */
import { z } from 'zod';
import { displayUrl, type KeystoneClient } from '../../keystone/index.js';
import { KaizenError } from '../../platform/errors.js';
import { endpointOrSkip, QUOTA_SERVICES, type QuotaService, quotaServiceCall } from './setter.js';
import type { QuotaKey } from './types.js';

/** One key's limit (-1 unlimited) and what the project uses of it. */
export interface QuotaUsage {
  limit: number;
  inUse: number;
}

export interface QuotaReading {
  /** The keys this bot sets, from the services the catalog has. */
  usage: Partial<Record<QuotaKey, QuotaUsage>>;
  /** Services skipped, as lines for a card. */
  notes: string[];
}

export interface ReadQuotasOptions {
  timeoutMs?: number;
}

const id = encodeURIComponent;

/** Where each service reports usage: nova `/detail`, cinder `?usage=true`, neutron `/details`. */
function detailUrl(service: QuotaService, base: string, projectId: string): string {
  const plain = service.url(base, projectId);
  if (service.name === 'compute') return `${plain}/detail`;
  if (service.name === 'volume') return `${plain}?usage=true`;
  return plain.replace(new RegExp(`/quotas/${id(projectId)}$`), `/quotas/${id(projectId)}/details`);
}

// Nova and cinder say `in_use`, neutron `used`; all say `limit`. Other fields (reserved, allocated) are not read.
const entrySchema = z.object({
  limit: z.number().int(),
  in_use: z.number().int().optional(),
  used: z.number().int().optional(),
});

function usageFrom(service: QuotaService, body: unknown): Partial<Record<QuotaKey, QuotaUsage>> {
  const wrapped = z.record(z.string(), z.unknown()).safeParse(body);
  const set = wrapped.success ? wrapped.data[service.wrapper] : undefined;
  const fields = z.record(z.string(), z.unknown()).safeParse(set);
  if (!fields.success) {
    throw new KaizenError('upstream', `The ${service.label} service answered without a ${service.wrapper}`, {
      service: service.name,
    });
  }
  const usage: Partial<Record<QuotaKey, QuotaUsage>> = {};
  for (const key of service.keys) {
    const entry = entrySchema.safeParse(fields.data[key]);
    // A key the service does not report (an older release, a disabled extension) is left out.
    if (entry.success)
      usage[key] = { limit: entry.data.limit, inUse: entry.data.in_use ?? entry.data.used ?? 0 };
  }
  return usage;
}

async function getDetail(
  keystone: KeystoneClient,
  service: QuotaService,
  url: string,
  timeoutMs: number,
): Promise<unknown> {
  const what = 'quota read';
  const text = await quotaServiceCall(keystone, service, url, {
    method: 'GET',
    what,
    timeoutMs,
    invalid: [400, 404],
  });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KaizenError(
      'upstream',
      `The ${service.label} service at ${displayUrl(url)} answered the ${what} with something not JSON`,
      { service: service.name },
    );
  }
}

/** The project's quota and usage per key, from every quota service the catalog has. */
export async function readQuotas(
  keystone: KeystoneClient,
  projectId: string,
  options: ReadQuotasOptions = {},
): Promise<QuotaReading> {
  const reading: QuotaReading = { usage: {}, notes: [] };
  for (const service of QUOTA_SERVICES) {
    const base = await endpointOrSkip(keystone, service);
    if (base === undefined) {
      reading.notes.push(`${service.name} quotas not read: no ${service.name} service in the catalog`);
      continue;
    }
    const body = await getDetail(
      keystone,
      service,
      detailUrl(service, base, projectId),
      options.timeoutMs ?? 15_000,
    );
    Object.assign(reading.usage, usageFrom(service, body));
  }
  return reading;
}
