/**
 * A first poll of a sheet with many rows while Slack answers a storm of 429s: the bot keeps
 * Slack's Retry-After, gives up on a card only after its retries, and the next poll posts what is
 * missing, so every applicant ends with exactly one card.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import { keys } from '../../src/platform/keys.js';
import { startTestBot, TEST_ADMIN_CHANNEL, type TestBot, uniquePrefix } from '../support/bot.js';
import { type Harness, poll, setApplications, startHarness, textOf, uniqueApplicant } from './harness.js';

const ROWS = 12;
/** Production's retry policy (tests otherwise turn retries off). */
const RETRIES = 3;
/** More 429s in a row than one card's retries absorb: at least one card is given up this poll. */
const STORM = RETRIES + 3;

let world: Harness;
let bot: TestBot;

beforeAll(async () => {
  world = await startHarness('storm');
  bot = await startTestBot(world.env(uniquePrefix('storm')), undefined, {
    retries: RETRIES,
    timeoutMs: 5_000,
  });
});
afterAll(async () => {
  await bot?.stop();
  await world?.close();
});

describe('a 429 storm during the first poll of a big sheet', () => {
  it('every applicant ends with exactly one card once the next poll has run', async () => {
    const people = Array.from({ length: ROWS }, (_, i) => uniqueApplicant(`storm${i}`));
    setApplications(
      world.sheets,
      people.map((who) => who.cells),
    );
    world.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, STORM);
    const first = await poll(bot);
    expect(first.new).toBe(ROWS);
    const limited = world.slack.calls('chat.postMessage').filter((call) => call.injectedFailure);
    expect(limited).toHaveLength(STORM);
    // Retry-After was kept: no two rate-limited attempts came closer than a second apart.
    for (let i = 1; i < limited.length; i++) {
      expect(limited[i]!.at.getTime() - limited[i - 1]!.at.getTime()).toBeGreaterThanOrEqual(950);
    }
    const cardsOf = (email: string) =>
      world.slack
        .messages(TEST_ADMIN_CHANNEL)
        .filter((message) => textOf(message).includes(`*Email*\\n${email}`));
    const missing = people.filter((who) => cardsOf(who.email).length === 0);
    expect(missing.length).toBeGreaterThan(0);

    // A failed post keeps its card lock for a minute, so a poll right after does not post twice
    // what may yet arrive; the schedule's next poll comes after it lapses. Let that time pass.
    const { redis } = bot.bot.services;
    for (const record of await new ApplicationStore(redis).list(['pending'])) {
      if (record.card === undefined) await redis.pexpire(keys.cardLock(record.id), 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    await poll(bot);
    for (const who of people) expect(cardsOf(who.email), who.email).toHaveLength(1);
  }, 60_000);
});
