/**
 * Application records in Redis (`app:<applicant id>`, one JSON document each) and their state
 * machine. A transition is one Lua step on one key (compare state, then write), so two admins or
 * two replicas clicking at once cannot both win, and every key a script touches is the same key,
 * which keeps it valid under Redis Cluster.
 */

import { randomUUID } from 'node:crypto';
import { keys } from '../../platform/keys.js';
import { recordTransitionScript } from '../../platform/record-transition.js';
import type { Redis } from '../../platform/redis.js';
import type { ProjectProtection } from '../accounts/protection.js';
import type { Applicant } from '../intake/applicant.js';
import type { QuotaChoice } from '../quotas/types.js';
import { type Note, noteFromStore } from './notes.js';

export type ApplicationState = 'pending' | 'approving' | 'provisioned' | 'notified' | 'rejected' | 'failed';

/** Provisioning steps in order; each records a checkpoint when done so a retry resumes after it. */
export const PROVISION_STEPS = [
  'project',
  'user',
  'role',
  'extra_users',
  'quotas',
  'setpass',
  'email',
  'admitted_sheet',
  'sheet_status',
] as const;
export type ProvisionStep = (typeof PROVISION_STEPS)[number];

export type ObjectOrigin = 'created' | 'existing';

/** An existing project whose name (any case) a new project was asked for under. */
export interface ProjectClash {
  id: string;
  name: string;
  /** Set when no application may ever join it. */
  protection?: ProjectProtection;
}

/** Why an approval stopped, when a person has a choice to make rather than a cause to fix. */
export type FailureCode = 'project_exists' | 'local_account_exists';

/**
 * Federated mode met a local (password) account with the applicant's name: an admin chooses to
 * turn it federated (`convert`) or to give the role to it as it is (`keep_local`).
 */
export type LocalAccountChoice = 'convert' | 'keep_local';

export interface ApplicationRecord {
  id: string;
  state: ApplicationState;
  applicant: Applicant;
  /** scrypt hash of the applicant's PIN; the PIN itself is never stored. */
  pinHash: string | undefined;
  quota: QuotaChoice;
  /** The Slack card, once posted. */
  card: { channel: string; ts: string } | undefined;
  /** Notes shown on the card, e.g. a duplicate application or a skipped quota service. */
  notes: Note[];
  /** Step name → what it produced (ids, or `done`). */
  checkpoints: Partial<Record<ProvisionStep, string>>;
  /** Who moved it to approving/rejected and when. */
  decidedBy: string | undefined;
  decidedAt: string | undefined;
  rejectReason: string | undefined;
  failure: { step: ProvisionStep; message: string; code?: FailureCode } | undefined;
  /** Seen at intake or when Approve stopped: the card says so and asks for a choice. */
  projectClash?: ProjectClash | undefined;
  /** An admin's explicit choice to join the existing project instead of creating one. */
  joinProject?: { id: string; name: string; by: string; at: string } | undefined;
  /** Federated mode: the local account found under the applicant's name, waiting for a choice. */
  /**
   * The account with the applicant's name that federated mode would not take over silently, and the
   * identity providers it already signs in through (none: a password account).
   */
  localAccount?: { id: string; name: string; otherIdps?: string[] } | undefined;
  /** Federated mode: what an admin chose for that local account, and who. */
  localAccountChoice?: { choice: LocalAccountChoice; by: string; at: string } | undefined;
  /**
   * Whether provisioning made the project and user or found them, decided before creating: a run
   * resumed after a crash then still knows the user is new (needs a password link) and the project
   * is its own (gets quotas).
   */
  origin?: { project?: ObjectOrigin; user?: ObjectOrigin };
  createdAt: string;
  updatedAt: string;
  /**
   * A fresh id per `transition` call, written with it: when a connection drop loses the reply and
   * the client resends the script, the second run recognises its own write.
   */
  transitionId?: string;
}

export type NewApplication = Pick<ApplicationRecord, 'applicant' | 'pinHash' | 'quota'> & {
  notes?: Note[];
  projectClash?: ProjectClash;
};

export type TransitionResult =
  | { ok: true; record: ApplicationRecord }
  | { ok: false; record: ApplicationRecord | undefined };

// KEYS[2] = the pending set, which a record leaves with its first transition (nothing goes back to pending).
const TRANSITION = recordTransitionScript(
  "if record.state ~= 'pending' then redis.call('ZREM', KEYS[2], record.id) end",
);

// KEYS[1] = record; ARGV[1] = field; ARGV[2] = JSON value — merges into an object field.
const MERGE_FIELD = `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local record = cjson.decode(raw)
local current = record[ARGV[1]]
if type(current) ~= 'table' then current = {} end
for k, v in pairs(cjson.decode(ARGV[2])) do current[k] = v end
record[ARGV[1]] = current
record.updatedAt = ARGV[3]
local out = cjson.encode(record)
redis.call('SET', KEYS[1], out)
return out
`;

/** Records per MGET when listing. */
const LIST_BATCH = 1_000;

export class ApplicationStore {
  constructor(private readonly redis: Redis) {}

  /** Creates the record in `pending` unless one exists; answers whether this call created it. */
  async create(input: NewApplication): Promise<boolean> {
    const now = new Date().toISOString();
    const record: ApplicationRecord = {
      id: input.applicant.id,
      state: 'pending',
      applicant: input.applicant,
      pinHash: input.pinHash,
      quota: input.quota,
      card: undefined,
      notes: input.notes ?? [],
      checkpoints: {},
      decidedBy: undefined,
      decidedAt: undefined,
      rejectReason: undefined,
      failure: undefined,
      ...(input.projectClash ? { projectClash: input.projectClash } : {}),
      createdAt: now,
      updatedAt: now,
    };
    const created = await this.redis.set(keys.application(record.id), JSON.stringify(record), 'NX');
    if (created !== 'OK') return false;
    const score = Date.parse(now);
    await this.redis
      .multi()
      .zadd(keys.applicationIndex(), score, record.id)
      .zadd(keys.applicationPending(), score, record.id)
      .exec();
    return true;
  }

  async get(id: string): Promise<ApplicationRecord | undefined> {
    const raw = await this.redis.get(keys.application(id));
    return raw ? parseRecord(raw) : undefined;
  }

  /**
   * Moves the record from one of `from` to `to`, applying `patch`, atomically. Fails (with the
   * current record) when the state was not one of `from`, e.g. another admin got there first.
   */
  async transition(
    id: string,
    from: ApplicationState[],
    to: ApplicationState,
    patch: Partial<Omit<ApplicationRecord, 'id' | 'state' | 'createdAt' | 'transitionId'>> = {},
  ): Promise<TransitionResult> {
    const body = {
      ...nullify(patch),
      state: to,
      updatedAt: new Date().toISOString(),
      transitionId: randomUUID(),
    };
    const [changed, raw] = (await this.redis.eval(
      TRANSITION,
      2,
      keys.application(id),
      keys.applicationPending(),
      JSON.stringify(from),
      JSON.stringify(body),
    )) as [number, string | null];
    const record = raw ? parseRecord(raw) : undefined;
    return changed === 1 && record ? { ok: true, record } : { ok: false, record };
  }

  /** Changes fields without a state change, only while the state is one of `states`. */
  async update(
    id: string,
    states: ApplicationState[],
    patch: Partial<Omit<ApplicationRecord, 'id' | 'state' | 'createdAt' | 'transitionId'>>,
  ): Promise<TransitionResult> {
    const current = await this.get(id);
    if (!current || !states.includes(current.state)) return { ok: false, record: current };
    return this.transition(id, [current.state], current.state, patch);
  }

  async checkpoint(id: string, step: ProvisionStep, value: string): Promise<void> {
    await this.redis.eval(
      MERGE_FIELD,
      1,
      keys.application(id),
      'checkpoints',
      JSON.stringify({ [step]: value }),
      new Date().toISOString(),
    );
  }

  /**
   * Every record, oldest first; with `states`, only those. Pending records alone come from the
   * pending set, so the intake's every poll reads the few waiting, not the whole history.
   */
  async list(states?: ApplicationState[]): Promise<ApplicationRecord[]> {
    if (states?.length && states.every((state) => state === 'pending')) return this.listPending();
    return this.read(await this.redis.zrange(keys.applicationIndex(), 0, -1), states);
  }

  private async listPending(): Promise<ApplicationRecord[]> {
    if ((await this.redis.exists(keys.applicationPendingBuilt())) === 0) await this.buildPendingSet();
    const ids = await this.redis.zrange(keys.applicationPending(), 0, -1);
    const records = await this.read(ids, undefined);
    const pending = records.filter((record) => record.state === 'pending');
    // An id left behind (set while building, as a transition went by) never turns pending again.
    const kept = new Set(pending.map((record) => record.id));
    const gone = ids.filter((id) => !kept.has(id));
    if (gone.length > 0) await this.redis.zrem(keys.applicationPending(), ...gone);
    return pending;
  }

  /** Fills the pending set from the records made before it existed: once per deployment. */
  private async buildPendingSet(): Promise<void> {
    const all = await this.redis.zrange(keys.applicationIndex(), 0, -1, 'WITHSCORES');
    const scores = new Map<string, string>();
    for (let index = 0; index + 1 < all.length; index += 2)
      scores.set(all[index] ?? '', all[index + 1] ?? '0');
    const pending = await this.read([...scores.keys()], ['pending']);
    const members = pending.flatMap((record) => [scores.get(record.id) ?? '0', record.id]);
    const multi = this.redis.multi();
    if (members.length > 0) multi.zadd(keys.applicationPending(), ...members);
    await multi.set(keys.applicationPendingBuilt(), new Date().toISOString()).exec();
  }

  private async read(
    ids: readonly string[],
    states: ApplicationState[] | undefined,
  ): Promise<ApplicationRecord[]> {
    const records: ApplicationRecord[] = [];
    // In slices: a long history read in one MGET held every record twice over (raw and parsed),
    // hundreds of MB at 100,000 applications, only to keep the few in `states`.
    for (let start = 0; start < ids.length; start += LIST_BATCH) {
      const slice = ids.slice(start, start + LIST_BATCH);
      for (const raw of await this.redis.mget(slice.map((id) => keys.application(id)))) {
        if (raw === null) continue;
        const record = parseRecord(raw);
        if (!states || states.includes(record.state)) records.push(record);
      }
    }
    return records;
  }

  /** How many records are in each state (every state listed, zeros included), for the metrics. */
  async countByState(): Promise<Record<ApplicationState, number>> {
    const counts: Record<ApplicationState, number> = {
      pending: 0,
      approving: 0,
      provisioned: 0,
      notified: 0,
      rejected: 0,
      failed: 0,
    };
    for (const record of await this.list()) counts[record.state] += 1;
    return counts;
  }

  /** Records of one applicant email, newest first. */
  async findByEmail(email: string): Promise<ApplicationRecord[]> {
    const wanted = email.trim().toLowerCase();
    return (await this.list()).filter((record) => record.applicant.email === wanted).reverse();
  }
}

function parseRecord(raw: string): ApplicationRecord {
  const record = JSON.parse(raw) as ApplicationRecord;
  // cjson encodes an empty table as an object; restore arrays.
  record.notes = Array.isArray(record.notes) ? record.notes.map(noteFromStore) : [];
  if (!Array.isArray(record.applicant.extraUsers)) record.applicant.extraUsers = [];
  if (!Array.isArray(record.applicant.row)) record.applicant.row = [];
  if (record.localAccount && !Array.isArray(record.localAccount.otherIdps))
    delete record.localAccount.otherIdps;
  return record;
}

/** `undefined` is dropped by JSON; send an explicit null so the script removes the field. */
function nullify(patch: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, v === undefined ? null : v]));
}
