/**
 * `quota <project>`: the project's quota and usage per key, read from the services through the
 * catalog. `quota <project> <preset | key=value …>`: the same table with the change beside it, and
 * a confirmation (an Apply button in Slack, `--yes` in a shell); applying sets the quotas through
 * the quota setter, once per confirmation (GETDEL), and audits.
 */
import { randomBytes } from 'node:crypto';
import { protectedProject } from '../src/domain/accounts/protection.js';
import { QUOTA_KEYS, type QuotaPresets } from '../src/domain/quotas/presets.js';
import { readQuotas } from '../src/domain/quotas/reader.js';
import { describeValues } from '../src/domain/quotas/request-workflow.js';
import { parseQuotaInput, wholeNumber } from '../src/domain/quotas/resolve.js';
import { setQuotas } from '../src/domain/quotas/setter.js';
import type { QuotaKey, QuotaValues } from '../src/domain/quotas/types.js';
import type { KeystoneClient } from '../src/keystone/index.js';
import { KaizenError } from '../src/platform/errors.js';
import { keys } from '../src/platform/keys.js';
import type { Redis } from '../src/platform/redis.js';
import { ARG_SPECS } from './args.js';
import type { CommandDeps } from './deps.js';
import type { CommandResult, QuotaRow } from './results.js';
import { actorOf, type Caller } from './types.js';
import { requireKeystone } from './users.js';

export const QUOTA_CONFIRMATION_TTL_S = 15 * 60;
const MIB_PER_GIB = 1024;

export type QuotaChange = { ok: true; values: QuotaValues } | { ok: false; problem: string };

/** `medium`, `instances=20 ram_gib=64`, or a preset then overrides: `small cores=40`. */
export function parseQuotaChange(words: readonly string[], presets: QuotaPresets): QuotaChange {
  const fields: Record<string, string> = {};
  let values: QuotaValues = {};
  for (const [index, word] of words.entries()) {
    const pair = /^([A-Za-z_]+)=(.*)$/.exec(word);
    if (pair === null) {
      const preset = Object.keys(presets).find((name) => name.toLowerCase() === word.toLowerCase());
      if (index > 0 || preset === undefined) {
        return {
          ok: false,
          problem: `"${word.slice(0, 40)}" is neither a preset (${Object.keys(presets).join(', ')}) first nor key=value`,
        };
      }
      values = { ...presets[preset] };
      continue;
    }
    const key = (pair[1] ?? '').toLowerCase();
    const value = pair[2] ?? '';
    if (key === 'ram_gib') {
      const gib = wholeNumber(value);
      if (gib === undefined || !Number.isSafeInteger(gib * MIB_PER_GIB))
        return { ok: false, problem: 'ram_gib wants a whole number, or -1' };
      fields.ram = String(gib === -1 ? -1 : gib * MIB_PER_GIB);
    } else if (!(QUOTA_KEYS as readonly string[]).includes(key)) {
      return {
        ok: false,
        problem: `${key.slice(0, 40)} is not a quota key (${QUOTA_KEYS.join(', ')}, ram_gib)`,
      };
    } else {
      fields[key] = value;
    }
  }
  const parsed = parseQuotaInput(fields);
  if (!parsed.ok) {
    const [key, message] = Object.entries(parsed.errors)[0] ?? ['value', 'is not valid'];
    return { ok: false, problem: `${key}: ${message}` };
  }
  const all = { ...values, ...parsed.values };
  if (Object.keys(all).length === 0) return { ok: false, problem: 'name a preset or give key=value' };
  return { ok: true, values: all };
}

async function projectOf(keystone: KeystoneClient, deps: CommandDeps, name: string) {
  return keystone.findProjectByName(name, deps.domainId);
}

/** Rows for every key read (and every key asked), in the services' order. */
async function rowsFor(
  keystone: KeystoneClient,
  projectId: string,
  requested: QuotaValues | undefined,
): Promise<{ rows: QuotaRow[]; notes: string[] }> {
  const reading = await readQuotas(keystone, projectId);
  const wanted = requested === undefined ? undefined : new Set(Object.keys(requested));
  const rows = QUOTA_KEYS.filter((key) =>
    wanted === undefined ? reading.usage[key] !== undefined : wanted.has(key),
  ).map((key: QuotaKey) => ({
    key,
    limit: reading.usage[key]?.limit,
    inUse: reading.usage[key]?.inUse,
    requested: requested?.[key],
  }));
  return { rows, notes: reading.notes };
}

/**
 * The project name and the change in the words after `quota`: the change is the trailing
 * `key=value` words, and a preset name just before them; everything before is the project's name,
 * spaces and all (`quota Kaizen Lab medium` is the project "Kaizen Lab"). A lone word is always
 * the project, so a project named like a preset can still be shown.
 */
export function splitQuotaWords(
  words: readonly string[],
  presets: QuotaPresets,
): { projectName: string; change: string[] } {
  let start = words.length;
  while (start > 1 && /^[A-Za-z_]+=/.test(words[start - 1] ?? '')) start -= 1;
  const before = words[start - 1];
  const isPreset = (word: string | undefined) =>
    word !== undefined && Object.keys(presets).some((name) => name.toLowerCase() === word.toLowerCase());
  if (start > 1 && isPreset(before)) start -= 1;
  return { projectName: words.slice(0, start).join(' '), change: words.slice(start) };
}

export async function quotaCommand(
  deps: CommandDeps,
  caller: Caller,
  words: readonly string[],
): Promise<CommandResult> {
  const keystone = requireKeystone(deps);
  const { projectName, change } = splitQuotaWords(words, deps.quotaPresets ?? {});
  let values: QuotaValues | undefined;
  if (change.length > 0) {
    const parsed = parseQuotaChange(change, deps.quotaPresets ?? {});
    if (!parsed.ok)
      return {
        kind: 'usage',
        command: 'quota',
        problem: parsed.problem,
        usage: ARG_SPECS.quota.usage,
      };
    values = parsed.values;
  }
  const project = await projectOf(keystone, deps, projectName);
  if (project === undefined) return { kind: 'no_project', query: projectName };
  const { rows, notes } = await rowsFor(keystone, project.id, values);
  const summary = { id: project.id, name: project.name };
  if (values === undefined) return { kind: 'quota', project: summary, rows, notes };
  const verdict =
    deps.projectProtection === undefined ? undefined : protectedProject(project, deps.projectProtection);
  if (verdict?.protected) {
    await deps.audit.record({
      actor: actorOf(caller),
      action: 'quota_set',
      subject: project.name,
      outcome: 'denied',
    });
    return { kind: 'project_protected', project: summary, reason: verdict.reason };
  }
  const confirmation = randomBytes(16).toString('base64url');
  const pending: PendingQuota = {
    projectId: project.id,
    projectName: project.name,
    values,
    requestedBy: actorOf(caller),
  };
  await deps.redis.set(
    keys.quotaConfirmation(confirmation),
    JSON.stringify(pending),
    'EX',
    QUOTA_CONFIRMATION_TTL_S,
  );
  return {
    kind: 'quota_confirm',
    project: summary,
    rows,
    notes,
    confirmation,
    expiresAt: new Date(Date.now() + QUOTA_CONFIRMATION_TTL_S * 1000).toISOString(),
  };
}

interface PendingQuota {
  projectId: string;
  projectName: string;
  values: QuotaValues;
  requestedBy: string;
}

async function takeQuotaConfirmation(redis: Redis, confirmation: string): Promise<PendingQuota | undefined> {
  if (!/^[A-Za-z0-9_-]{22}$/.test(confirmation)) return undefined;
  const raw = await redis.getdel(keys.quotaConfirmation(confirmation));
  return raw === null ? undefined : (JSON.parse(raw) as PendingQuota);
}

/** Forgets a confirmation without applying it (Cancel, or a shell run without --yes). */
export async function dropQuotaConfirmation(redis: Redis, confirmation: string): Promise<boolean> {
  return (await takeQuotaConfirmation(redis, confirmation)) !== undefined;
}

/** The Apply button (or `--yes`): uses the confirmation up, then sets the quotas. */
export async function applyQuotaConfirmation(
  deps: CommandDeps,
  caller: Caller,
  confirmation: string,
): Promise<CommandResult> {
  const keystone = requireKeystone(deps);
  const pending = await takeQuotaConfirmation(deps.redis, confirmation);
  if (pending === undefined) {
    throw new KaizenError(
      'conflict',
      'This quota change was already applied or its confirmation expired (it lasts 15 minutes): run `/kaizen quota` again.',
    );
  }
  const actor = actorOf(caller);
  try {
    const outcome = await setQuotas(keystone, pending.projectId, pending.values);
    await deps.redis.set(keys.quotaChangedAt(pending.projectId), String(Date.now()));
    await deps.audit.record({
      actor,
      action: 'quota_set',
      subject: pending.projectName,
      outcome: 'ok',
      detail: describeValues(pending.values),
    });
    return {
      kind: 'quota_applied',
      project: { id: pending.projectId, name: pending.projectName },
      values: pending.values,
      notes: outcome.notes,
    };
  } catch (error) {
    await deps.audit.record({ actor, action: 'quota_set', subject: pending.projectName, outcome: 'failed' });
    throw error;
  }
}
