/**
 * Quota change requests in Redis (`quota:req:<row key>`, one JSON document each) and their state
 * machine, as applications have theirs: a transition is one Lua step on one key, so two admins (or
 * a double click) cannot both start applying. Approve applies once: the steps after it
 * (quotas, email, sheet status) are checkpointed, and a Retry resumes after the last one done.
 */

import { randomUUID } from 'node:crypto';
import { keys } from '../../platform/keys.js';
import { recordTransitionScript } from '../../platform/record-transition.js';
import type { Redis } from '../../platform/redis.js';
import type { QuotaRequest } from '../intake/quota-request.js';
import type { Membership } from './membership.js';
import type { QuotaValues } from './types.js';

/** `reverting` and `reverted`: a request applied by policy that an admin took back. */
export type QuotaRequestState =
  | 'pending'
  | 'applying'
  | 'applied'
  | 'rejected'
  | 'failed'
  | 'reverting'
  | 'reverted';

export const QUOTA_REQUEST_STEPS = ['quotas', 'email', 'sheet_status'] as const;
export type QuotaRequestStep = (typeof QUOTA_REQUEST_STEPS)[number];

export interface QuotaRequestRecord {
  id: string;
  state: QuotaRequestState;
  request: QuotaRequest;
  /** What Keystone said about the requester and the project when the request came in. */
  membership: Membership;
  /** What Approve applies: the request as asked, or as an admin adjusted it. */
  toApply: QuotaValues;
  /** Set when an admin changed the values with Adjust. */
  adjustedBy?: string;
  /** The limits before Approve changed them (the keys it changed), for Revert. */
  previous?: QuotaValues;
  card: { channel: string; ts: string } | undefined;
  checkpoints: Partial<Record<QuotaRequestStep, string>>;
  decidedBy: string | undefined;
  decidedAt: string | undefined;
  rejectReason: string | undefined;
  /** Set when QUOTA_AUTO_APPROVE applied it. */
  byPolicy?: boolean;
  /** Who took back a change applied by policy, and when. */
  revertedBy?: string;
  revertedAt?: string;
  failure: { step: QuotaRequestStep; message: string } | undefined;
  createdAt: string;
  updatedAt: string;
  transitionId?: string;
}

export type QuotaTransitionResult =
  | { ok: true; record: QuotaRequestRecord }
  | { ok: false; record: QuotaRequestRecord | undefined };

const TRANSITION = recordTransitionScript();

// KEYS[1] = record; ARGV[1] = step; ARGV[2] = value; ARGV[3] = now.
const CHECKPOINT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local record = cjson.decode(raw)
local current = record.checkpoints
if type(current) ~= 'table' then current = {} end
current[ARGV[1]] = ARGV[2]
record.checkpoints = current
record.updatedAt = ARGV[3]
local out = cjson.encode(record)
redis.call('SET', KEYS[1], out)
return out
`;

const LIST_BATCH = 1_000;

/** cjson writes an empty table as `{}`; a record's lists and maps are read back as they were meant. */
function parseRecord(raw: string): QuotaRequestRecord {
  const record = JSON.parse(raw) as QuotaRequestRecord;
  if (Array.isArray(record.checkpoints)) record.checkpoints = {};
  if (Array.isArray(record.toApply)) record.toApply = {};
  return record;
}

export class QuotaRequestStore {
  constructor(private readonly redis: Redis) {}

  /** Stores the request as `pending` unless it is there; answers whether this call stored it. */
  async create(request: QuotaRequest, membership: Membership): Promise<boolean> {
    const now = new Date().toISOString();
    const record: QuotaRequestRecord = {
      id: request.id,
      state: 'pending',
      request,
      membership,
      toApply: request.requested,
      card: undefined,
      checkpoints: {},
      decidedBy: undefined,
      decidedAt: undefined,
      rejectReason: undefined,
      failure: undefined,
      createdAt: now,
      updatedAt: now,
    };
    const created = await this.redis.set(keys.quotaRequest(record.id), JSON.stringify(record), 'NX');
    if (created !== 'OK') return false;
    await this.redis.zadd(keys.quotaRequestIndex(), Date.parse(now), record.id);
    return true;
  }

  async get(id: string): Promise<QuotaRequestRecord | undefined> {
    const raw = await this.redis.get(keys.quotaRequest(id));
    return raw ? parseRecord(raw) : undefined;
  }

  /** Moves the record from one of `from` to `to` with `patch`, atomically; fails when another got there first. */
  async transition(
    id: string,
    from: QuotaRequestState[],
    to: QuotaRequestState,
    patch: Partial<Omit<QuotaRequestRecord, 'id' | 'state' | 'createdAt' | 'transitionId'>> = {},
  ): Promise<QuotaTransitionResult> {
    const body = { ...patch, state: to, updatedAt: new Date().toISOString(), transitionId: randomUUID() };
    // undefined fields are cleared: JSON null reaches the script as cjson.null.
    const json = JSON.stringify(body, (_key, value: unknown) => (value === undefined ? null : value));
    const [changed, raw] = (await this.redis.eval(
      TRANSITION,
      1,
      keys.quotaRequest(id),
      JSON.stringify(from),
      json,
    )) as [number, string | null];
    const record = raw ? parseRecord(raw) : undefined;
    return changed === 1 && record ? { ok: true, record } : { ok: false, record };
  }

  /** Changes fields without a state change, only while the state is one of `states`. */
  async update(
    id: string,
    states: QuotaRequestState[],
    patch: Partial<Omit<QuotaRequestRecord, 'id' | 'state' | 'createdAt' | 'transitionId'>>,
  ): Promise<QuotaTransitionResult> {
    const current = await this.get(id);
    if (!current || !states.includes(current.state)) return { ok: false, record: current };
    return this.transition(id, [current.state], current.state, patch);
  }

  async checkpoint(id: string, step: QuotaRequestStep, value: string): Promise<void> {
    await this.redis.eval(CHECKPOINT, 1, keys.quotaRequest(id), step, value, new Date().toISOString());
  }

  /** Every request, oldest first; with `states`, only those. */
  async list(states?: QuotaRequestState[]): Promise<QuotaRequestRecord[]> {
    const ids = await this.redis.zrange(keys.quotaRequestIndex(), 0, -1);
    const records: QuotaRequestRecord[] = [];
    // In slices: one MGET per slice instead of one GET per request (the keys share the {quota} tag).
    for (let start = 0; start < ids.length; start += LIST_BATCH) {
      const slice = ids.slice(start, start + LIST_BATCH);
      const raws = await this.redis.mget(slice.map((id) => keys.quotaRequest(id)));
      for (const raw of raws) {
        if (raw === null) continue;
        const record = parseRecord(raw);
        if (states === undefined || states.includes(record.state)) records.push(record);
      }
    }
    return records;
  }
}
