/**
 * Redis Cluster safety of the key layout. Three checks:
 * - every multi-key call site in src/ and commands/ (scripts, MGET, DEL of several keys,
 *   pipelines, transactions…) uses only keys of src/platform/keys.ts that hash to one slot, whatever their
 *   arguments;
 * - our CRC16 slot function agrees with Redis's own CLUSTER KEYSLOT;
 * - the stores' real flows run against a cluster-mode Redis (which refuses CROSSSLOT) while a
 *   recorder checks the keys of every command, pipeline and transaction they send.
 */

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import type { Applicant } from '../../src/domain/intake/applicant.js';
import { SetpassCrypto } from '../../src/domain/setpass/crypto.js';
import { TokenStore } from '../../src/domain/setpass/store.js';
import { keys } from '../../src/platform/keys.js';
import { sampleApplicant } from '../support/applicants.js';
import { uniquePrefix } from '../support/bot.js';
import { keySlot, slotsOf } from './key-slot.js';
import { type RedisRecorder, recordRedisKeys } from './redis-recorder.js';
import { type SingleNodeCluster, startSingleNodeCluster } from './single-node-cluster.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
type KeyName = keyof typeof keys;
const keyFunctions = keys as Record<KeyName, (...args: string[]) => string>;

/** Every key a keys.ts function can make, for a few different arguments. */
function sampleKeys(name: KeyName): string[] {
  const make = keyFunctions[name];
  return ['a1', 'b2-x', 'c3:yz'].map((seed) =>
    make(...Array.from({ length: make.length }, (_, i) => `${seed}${i}`)),
  );
}

// ---- finding multi-key call sites in the source ----

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    // src/dev/ is the demo and the stand-ins: never the bot's own Redis use.
    if (entry.isDirectory()) return path === join('src', 'dev') ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Index just past the bracket that closes the one at `open`, skipping strings. */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      i = end === -1 ? text.length : end;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

// Commands that can take keys in more than one slot.
const MULTI_KEY_COMMANDS =
  'eval|evalsha|fcall|mget|mset|msetnx|del|unlink|exists|touch|watch|rename|renamenx|copy|smove|' +
  'sinter|sinterstore|sunion|sunionstore|sdiff|sdiffstore|sintercard|zunion|zunionstore|zinter|' +
  'zinterstore|zdiff|zdiffstore|zintercard|lmove|blmove|rpoplpush|brpoplpush|lmpop|blmpop|zmpop|' +
  'bzmpop|xread|xreadgroup|pfcount|pfmerge|bitop|sort';

interface CallSite {
  site: string;
  command: string;
  keyNames: KeyName[];
  /** More than one key: several references, keys made in a loop, or a script declaring several. */
  multi: boolean;
}

function callSites(file: string): CallSite[] {
  const text = readFileSync(join(root, file), 'utf8');
  // Keys held in a variable first: `const userKey = keys.setpassUser(id)`, or a list of them:
  // `const seen = rows.map((row) => keys.sheetSeen(row))`.
  const variables = new Map<string, { key: KeyName; many: boolean }>();
  for (const found of text.matchAll(/(?:const|let)\s+(\w+)\s*=\s*([^;]*?)\bkeys\.(\w+)\(/g)) {
    variables.set(found[1]!, { key: found[3]! as KeyName, many: /\.map\(|\.\.\./.test(found[2]!) });
  }
  const heldIn = (span: string) =>
    [...variables].filter(([name]) => new RegExp(`\\b${name}\\b`).test(span)).map(([, held]) => held);
  const referenced = (span: string): KeyName[] => {
    const direct = [...span.matchAll(/\bkeys\.(\w+)\(/g)].map((m) => m[1]! as KeyName);
    return [...direct, ...heldIn(span).map((held) => held.key)];
  };
  const line = (index: number) => `${file}:${text.slice(0, index).split('\n').length}`;
  const sites: CallSite[] = [];
  for (const found of text.matchAll(new RegExp(`\\.(${MULTI_KEY_COMMANDS})\\(`, 'g'))) {
    const open = found.index + found[0].length - 1;
    const args = text.slice(open, closing(text, open));
    const keyNames = referenced(args);
    const inLoop = /\.map\(|\.\.\./.test(args) || heldIn(args).some((held) => held.many);
    let multi = keyNames.length > 1 || inLoop;
    if (found[1] === 'eval' || found[1] === 'evalsha' || found[1] === 'fcall') {
      const numkeys = /^\(\s*[^,]+,\s*([^,)]+)/.exec(args)?.[1]?.trim();
      multi = numkeys === undefined || !/^\d+$/.test(numkeys) || Number(numkeys) > 1;
    }
    sites.push({ site: line(found.index), command: found[1]!, keyNames, multi });
  }
  for (const found of text.matchAll(/\.(pipeline|multi)\(\s*\)/g)) {
    const end = text.indexOf('.exec(', found.index);
    const span = text.slice(found.index, end === -1 ? undefined : end);
    const keyNames = referenced(span);
    const inLoop = /\bfor\s*\(|\.forEach\(|\.map\(/.test(span);
    sites.push({
      site: line(found.index),
      command: found[1]!,
      keyNames,
      multi: keyNames.length > 1 || inLoop,
    });
  }
  return sites;
}

// src/platform/redis-scripts.ts runs whatever script and keys it is handed (EVALSHA, EVAL on NOSCRIPT): its
// callers' `scripts.evalsha(SCRIPT, n, keys.…)` sites are the ones that name keys, and are scanned.
const SCRIPT_RUNNER = join('src', 'platform', 'redis-scripts.ts');
const allSites = ['src', 'commands']
  .flatMap(sourceFiles)
  .filter((file) => file !== SCRIPT_RUNNER)
  .flatMap(callSites);
const multiKeySites = allSites.filter((site) => site.multi);

describe('multi-key call sites in the source', () => {
  it('are found (the scan itself works)', () => {
    const files = new Set(multiKeySites.map((site) => site.site.split(':')[0]));
    expect(files).toContain('src/domain/setpass/store.ts');
    expect(multiKeySites.length).toBeGreaterThan(5);
  });

  it('name their keys through src/platform/keys.ts, so their slots can be checked', () => {
    const unresolved = multiKeySites.filter((site) => site.keyNames.length === 0);
    expect(unresolved.map((site) => `${site.site} (${site.command})`)).toEqual([]);
  });

  it('use keys that all hash to one slot, whatever the ids in them', () => {
    const crossing = multiKeySites
      .map((site) => {
        const used = [...new Set(site.keyNames)];
        const slots = slotsOf(used.flatMap(sampleKeys));
        return { site: `${site.site} ${site.command}(${used.join(', ')})`, slots: slots.size };
      })
      .filter((site) => site.slots > 1);
    expect(crossing).toEqual([]);
  });
});

// ---- the slot function itself, and the layout of keys.ts ----

describe('key slots', () => {
  let cluster: SingleNodeCluster;
  let redis: Redis;
  beforeAll(async () => {
    cluster = await startSingleNodeCluster();
    redis = new Redis(cluster.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it('are computed as Redis computes them, hash tags included', async () => {
    expect(keySlot('123456789')).toBe(0x31c3);
    const samples = [
      'foo',
      'bar',
      '{user1000}.following',
      '{user1000}.followers',
      'foo{}{bar}',
      'foo{{bar}}zap',
      'foo{bar}{zap}',
      'kaizen:{',
      'ünïcödé',
      ...(Object.keys(keys) as KeyName[]).flatMap(sampleKeys),
      ...(Object.keys(keys) as KeyName[]).flatMap(sampleKeys).map((key) => `kaizen:${key}`),
    ];
    for (const key of samples) {
      expect(keySlot(key), key).toBe(Number(await redis.call('CLUSTER', 'KEYSLOT', key)));
    }
  });

  it('group the keys used together: each hash tag of keys.ts keeps one slot for any id', () => {
    const tagged = (Object.keys(keys) as KeyName[]).filter((name) => sampleKeys(name)[0]!.includes('{'));
    expect(tagged.length).toBeGreaterThan(3);
    const byTag = new Map<string, Set<number>>();
    for (const name of tagged) {
      for (const key of sampleKeys(name)) {
        const tag = /\{([^}]+)\}/.exec(key)![1]!;
        byTag.set(tag, new Set([...(byTag.get(tag) ?? []), keySlot(key)]));
      }
    }
    for (const [tag, slots] of byTag) expect(slots.size, tag).toBe(1);
  });
});

// ---- the real flows on a Redis that refuses cross-slot work ----

function applicant(id: string): Applicant {
  return sampleApplicant({ id, project: { kind: 'new', name: `lab-${id}`, description: 'x' } });
}

describe('the stores on a cluster-mode Redis', () => {
  let cluster: SingleNodeCluster;
  let redis: Redis;
  let recorder: RedisRecorder;

  beforeAll(async () => {
    cluster = await startSingleNodeCluster();
    redis = new Redis(cluster.url, { keyPrefix: uniquePrefix('cluster') });
    recorder = recordRedisKeys();
  });
  afterAll(async () => {
    recorder?.stop();
    redis?.disconnect();
    await cluster?.stop();
  });

  it('issue, refuse, burn, claim, restore, finish and revoke password links', async () => {
    const tokens = new TokenStore(redis, new SetpassCrypto(randomBytes(32)), 60_000);
    const user = { userId: 'u1', username: 'ann@example.org', pinHash: 'scrypt$x$y', temporaryPassword: 't' };
    const first = await tokens.issue(user);
    const second = await tokens.issue(user);
    expect((await tokens.find(first.token)).kind).toBe('missing');
    const found = await tokens.find(second.token);
    if (found.kind !== 'found') throw new Error('the renewed link should be found');
    expect(await tokens.recordWrongPin(found.record, 2)).toMatchObject({ kind: 'counted' });
    expect(await tokens.recordWrongPin(found.record, 2)).toMatchObject({ kind: 'burned' });

    const third = await tokens.issue(user);
    const claimed = await tokens.claim((await tokens.current('u1'))!.tokenHmac);
    expect(claimed).toBeDefined();
    expect(await tokens.restore(claimed!)).toBe(true);
    expect((await tokens.currentToken('u1'))?.token).toBe(third.token);
    await tokens.finish(claimed!.record, new Date());
    expect(await tokens.passwordSetAt('u1')).toBeInstanceOf(Date);

    await tokens.issue(user);
    expect(await tokens.revoke('u1')).toBe(true);
    await tokens.storePinHash('u1', 'scrypt$a$b');
    expect(await tokens.pinOnFile('u1')).toBe('scrypt$a$b');
  });

  it('create, move and list application records', async () => {
    const store = new ApplicationStore(redis);
    for (const id of ['k1', 'k2', 'k3']) {
      await store.create({
        applicant: applicant(id),
        pinHash: undefined,
        quota: { kind: 'preset', preset: 'small' },
      });
    }
    expect((await store.transition('k1', ['pending'], 'approving', { decidedBy: 'U1' })).ok).toBe(true);
    await store.checkpoint('k1', 'project', 'p-1');
    const listed = await store.list();
    expect(listed.map((record) => record.id)).toEqual(['k1', 'k2', 'k3']);
    expect(listed[0]?.checkpoints).toEqual({ project: 'p-1' });
  });

  it('sent only single-slot commands, pipelines and transactions', () => {
    // Not vacuous: the flows above sent scripts with several keys, and MGET.
    expect(
      recorder.multiKey().some((batch) => batch.commands.includes('eval') && batch.keys.length >= 3),
    ).toBe(true);
    expect(recorder.multiKey().some((batch) => batch.commands.includes('mget'))).toBe(true);
    expect(
      recorder
        .crossSlot()
        .map((batch) => `${batch.site}: ${batch.commands.join(',')} ${batch.keys.join(' ')}`),
    ).toEqual([]);
  });
});
