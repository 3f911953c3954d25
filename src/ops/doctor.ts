/**
 * `kaizen doctor`: one line per capability — ok, off (not configured, and what to set), or
 * failing (why). Each check really talks to its service, with a deadline.
 */

import { WebClient } from '@slack/web-api';
import { adminChannelProblemText } from '../../views/protection.js';
import { headerNames, mapColumns, missingHeadersNotice } from '../domain/intake/columns.js';
import { mapQuotaColumns } from '../domain/intake/quota-request.js';
import { keystoneFromConfig } from '../keystone/from-config.js';
import { transportFromConfig } from '../mail/transport.js';
import {
  type CapabilityName,
  type Config,
  capabilities,
  federatedIdColumn,
} from '../platform/config/config.js';
import { KaizenError } from '../platform/errors.js';
import { maskCredentials, scrubSecrets, silentLogger } from '../platform/log.js';
import { createRedis, pingRedis } from '../platform/redis.js';
import { quoteTab } from '../sheets/a1-notation.js';
import { sheetsClientFromConfig } from '../sheets/from-config.js';
import type { SheetsClient } from '../sheets/sheets.js';
import { AdminDirectory } from '../slack/admins.js';
import { checkFederation } from './doctor-federation.js';

export interface DoctorLine {
  /** A capability, or `federation` in federated mode. */
  name: CapabilityName | 'federation';
  /** `warning`: works, but something needs a person's eye (a mapping that bypasses approval). */
  status: 'ok' | 'off' | 'failing' | 'warning';
  detail: string;
}

/** A live check for one capability; resolves to a short detail on success. */
export type LiveCheck = (config: Config) => Promise<string>;

const TIMEOUT_MS = 8_000;
/** The longest `runDoctor` takes: each check's own time-out, and a second for it to give up. */
export const DOCTOR_DEADLINE_MS = TIMEOUT_MS + 1_000;

export const liveChecks: Partial<Record<CapabilityName, LiveCheck>> = {
  redis: async (config) => {
    const redis = createRedis(config.redis, {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    redis.on('error', () => {});
    try {
      await redis.connect().catch(() => {});
      await pingRedis(redis, 3_000);
      if (config.redis.clusterNodes)
        return `cluster through ${config.redis.clusterNodes.join(', ')}: PING answered`;
      return config.redis.sentinels ? `sentinel ${config.redis.sentinelName}` : 'PING answered';
    } finally {
      redis.disconnect();
    }
  },
  slack: async (config) => {
    const client = new WebClient(config.slack.botToken, {
      slackApiUrl: config.slack.apiUrl,
      retryConfig: { retries: 0 },
      timeout: TIMEOUT_MS,
    });
    const auth = await client.auth.test();
    const mode = config.slack.appToken ? 'Socket Mode' : 'HTTP mode';
    const { admins, adminChannel } = config.slack;
    const channel = await new AdminDirectory(client, admins, adminChannel).checkChannel();
    if (!channel.ok) {
      throw new KaizenError(
        'config',
        adminChannelProblemText(adminChannel ?? '', channel.problem, channel.error),
      );
    }
    const who = admins
      ? `${admins.length} admins named in SLACK_ADMINS`
      : `admins: the members of the private channel ${adminChannel}`;
    return `signed in as ${auth.user ?? 'the bot'} on ${auth.team ?? 'the workspace'} (${mode}); ${who}`;
  },
  keystone: async (config) => {
    const keystone = keystoneFromConfig(config, { timeoutMs: TIMEOUT_MS })!;
    const catalog = await keystone.getCatalog();
    const types = new Set(catalog.map((service) => service.type));
    const quotaServices = ['compute', 'network'].filter((t) => types.has(t));
    if (['volumev3', 'block-storage', 'volume'].some((t) => types.has(t))) quotaServices.push('volume');
    return `admin token issued; catalog lists ${catalog.length} services (quota services: ${quotaServices.join(', ') || 'none'})`;
  },
  sheets: async (config) => {
    const client = sheetsClientFromConfig(config, silentLogger)!;
    const tab = config.google.applicationsTab;
    const [header = []] = await client.readRange(`${quoteTab(tab)}!1:1`, tab);
    const mapped = mapColumns(header, headerNames(config.google.headers, federatedIdColumn(config)));
    if (!mapped.ok) throw new KaizenError('config', missingHeadersNotice(tab, mapped.missing));
    // Federated mode reading the unique id from a column: without it no approval can go through.
    const idColumn = federatedIdColumn(config);
    if (idColumn !== undefined && mapped.columns.federatedId === undefined) {
      throw new KaizenError(
        'config',
        `${missingHeadersNotice(tab, [idColumn.header])} It gives the federated unique id (KAIZEN_FEDERATED_ID_FROM=${idColumn.key}).`,
      );
    }
    return `header row read: ${header.length} columns, all required ones found; ${await quotaTabLine(client, config)}`;
  },
  setpass: async (config) => {
    const keystone = keystoneFromConfig(config, { timeoutMs: TIMEOUT_MS })!;
    await keystone.ping();
    return `links point at ${config.http.publicUrl}/; Keystone answers`;
  },
  mail: async (config) => {
    const transport = transportFromConfig(config.mail, { timeoutMs: TIMEOUT_MS })!;
    try {
      await transport.verify();
    } finally {
      transport.close();
    }
    const tls = config.mail.smtpUrl?.startsWith('smtps:')
      ? 'TLS'
      : config.mail.requireTls
        ? 'STARTTLS'
        : 'no TLS required';
    return `relay accepted the connection and the login (${tls})`;
  },
};

export async function runDoctor(config: Config, checks = liveChecks): Promise<DoctorLine[]> {
  const [lines, federation] = await Promise.all([capabilityLines(config, checks), federationLine(config)]);
  return federation === undefined ? lines : [...lines, federation];
}

async function federationLine(config: Config): Promise<DoctorLine | undefined> {
  try {
    const report = await withDeadline(checkFederation(config, TIMEOUT_MS));
    return report && { name: 'federation', status: report.status, detail: maskCredentials(report.detail) };
  } catch (error) {
    return { name: 'federation', status: 'failing', detail: maskCredentials(reason(error)) };
  }
}

function capabilityLines(config: Config, checks: typeof liveChecks): Promise<DoctorLine[]> {
  return Promise.all(
    capabilities(config).map(async (capability): Promise<DoctorLine> => {
      if (!capability.enabled) {
        return {
          name: capability.name,
          status: 'off',
          detail: `not configured: set ${capability.missing.join(', ')}`,
        };
      }
      const check = checks[capability.name];
      if (!check) return { name: capability.name, status: 'ok', detail: 'configured' };
      // A detail may quote a setting (PUBLIC_URL), and a URL setting may carry a password.
      try {
        return {
          name: capability.name,
          status: 'ok',
          detail: maskCredentials(await withDeadline(check(config))),
        };
      } catch (error) {
        return { name: capability.name, status: 'failing', detail: maskCredentials(reason(error)) };
      }
    }),
  );
}

function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer in time')), DOCTOR_DEADLINE_MS);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export function formatDoctor(lines: DoctorLine[]): string {
  const width = Math.max(...lines.map((line) => line.name.length));
  return lines
    .map((line) => `${line.name.padEnd(width)}  ${line.status.padEnd(7)}  ${line.detail}`)
    .join('\n');
}

/** Operators read this in a terminal: the service's own words help, once secrets are scrubbed. */
function reason(error: unknown): string {
  if (error instanceof KaizenError) return error.message;
  return scrubSecrets(error instanceof Error ? error.message : String(error));
}

/** The quota requests tab, when the sheet has one: its header must name the columns a request needs. */
async function quotaTabLine(client: SheetsClient, config: Config): Promise<string> {
  const tab = config.google.quotaRequestsTab;
  if (!(await client.tabTitles()).includes(tab)) return `no ${tab} tab (quota requests off)`;
  const [header = []] = await client.readRange(`${quoteTab(tab)}!1:1`, tab);
  const mapped = mapQuotaColumns(header, headerNames(config.google.headers));
  if (!mapped.ok) {
    throw new KaizenError(
      'config',
      `The quota requests tab "${tab}" has no column for ${mapped.missing.join(', ')}. Columns are found by their header text (case and spaces do not matter).`,
    );
  }
  return `${tab} tab: the columns of a request found`;
}
