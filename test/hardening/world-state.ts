/**
 * "Nothing changed", made checkable: what the bot keeps in Redis under its prefix and what the
 * admin channel shows, before and after an input, compared key by key and message by message.
 */
import type { Redis } from 'ioredis';
import { dumpRedis } from '../support/redis-dump.js';
import type { SlackFake } from '../support/slack-fake.js';

export interface WorldState {
  /** Key (without the prefix) → value as JSON. */
  redis: Map<string, string>;
  /** Keys that expire on their own (failure budgets, locks): their going away is time passing. */
  expiring: Set<string>;
  /** ts → the message as people see it (text and blocks). */
  messages: Map<string, string>;
}

export async function takeState(
  redis: Redis,
  prefix: string,
  slack: SlackFake,
  channel: string,
): Promise<WorldState> {
  // The marks of Slack requests already handled record that a request came, not what it did.
  const stored = new Map(
    [...(await dumpRedis(redis, prefix))].filter(
      ([key]) => !key.slice(prefix.length).startsWith('slack:seen:'),
    ),
  );
  const pipeline = redis.pipeline();
  for (const key of stored.keys()) pipeline.pttl(key);
  const ttls = (await pipeline.exec()) ?? [];
  const expiring = [...stored.keys()].filter((_, index) => Number(ttls[index]?.[1] ?? -1) > 0);
  return {
    redis: new Map([...stored].map(([key, value]) => [key.slice(prefix.length), value])),
    expiring: new Set(expiring.map((key) => key.slice(prefix.length))),
    messages: new Map(
      slack
        .messages(channel)
        .filter((message) => !message.deleted)
        .map((message) => [message.ts, JSON.stringify([message.text, message.blocks ?? []])]),
    ),
  };
}

export interface StateChanges {
  /** Redis keys added, removed or changed, except those `allowed` matches. */
  redis: string[];
  /** Messages of the channel whose text or blocks changed, or that were deleted. */
  changedMessages: string[];
  /** Messages posted to the channel since `before`, as JSON of text and blocks. */
  newMessages: string[];
}

export function changesBetween(
  before: WorldState,
  after: WorldState,
  allowed: readonly RegExp[] = [],
): StateChanges {
  const free = (key: string) => allowed.some((pattern) => pattern.test(key));
  const redis: string[] = [];
  for (const [key, value] of after.redis) {
    if (free(key)) continue;
    const old = before.redis.get(key);
    if (old === undefined) redis.push(`added ${key}`);
    else if (old !== value) redis.push(`changed ${key}`);
  }
  for (const key of before.redis.keys()) {
    if (!after.redis.has(key) && !free(key) && !before.expiring.has(key)) redis.push(`removed ${key}`);
  }
  const changedMessages = [...before.messages]
    .filter(([ts, shown]) => after.messages.get(ts) !== shown)
    .map(([ts]) => ts);
  const newMessages = [...after.messages]
    .filter(([ts]) => !before.messages.has(ts))
    .map(([, shown]) => shown);
  return { redis, changedMessages, newMessages };
}
