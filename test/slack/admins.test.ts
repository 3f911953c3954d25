/**
 * Who is an admin. Without SLACK_ADMINS the members of the admin channel are, so the bot refuses
 * to start when that channel is public or shared outside the workspace. Guests and deactivated
 * accounts are never admins, whichever list names them. Real bot, Slack fake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/platform/config/config.js';
import { ADMIN, kaizen } from '../commands/helpers.js';
import { startTestBot, type TestBot, testEnv } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

const NEVER = '0 0 1 1 *';
const CHANNEL = 'G0KAIZENADMINS';
const GUEST = 'U0GUEST';
const SINGLE_CHANNEL_GUEST = 'U0SCGUEST';
const GONE = 'U0DEACTIVATED';

describe('admins', () => {
  let slack: SlackFake;
  const running: TestBot[] = [];

  function env(overrides: Env = {}): Env {
    return testEnv({
      SLACK_API_URL: `${slack.url}/api/`,
      SLACK_ADMIN_CHANNEL: CHANNEL,
      SHEET_POLL_CRON: NEVER,
      REMINDER_CRON: NEVER,
      ADMIN_REMINDER_CRON: NEVER,
      ...overrides,
    });
  }

  async function start(overrides: Env = {}): Promise<TestBot> {
    const bot = await startTestBot(env(overrides));
    running.push(bot);
    return bot;
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    slack.addUser({ id: GUEST, name: 'guest', isRestricted: true });
    slack.addUser({ id: SINGLE_CHANNEL_GUEST, name: 'scguest', isUltraRestricted: true });
    slack.addUser({ id: GONE, name: 'gone', deleted: true });
    slack.setChannelMembers(CHANNEL, [ADMIN, GUEST, SINGLE_CHANNEL_GUEST, GONE]);
  });
  afterAll(async () => {
    for (const bot of running) await bot.stop();
    await slack?.close();
  });

  it('refuses to start without SLACK_ADMINS when the admin channel is public or shared, saying why', async () => {
    const cases = [
      [{ isPrivate: false }, `SLACK_ADMIN_CHANNEL ${CHANNEL} is a public channel`],
      [{ isPrivate: true, isShared: true }, 'is shared with another organisation'],
      [{ isPrivate: true, isExtShared: true }, 'is shared with another organisation'],
      [{ isPrivate: true, isPendingExtShared: true }, 'is shared with another organisation'],
    ] as const;
    for (const [info, message] of cases) {
      slack.setChannelInfo(CHANNEL, info);
      await expect(start()).rejects.toThrow(message);
    }
    // Named admins do not depend on the channel.
    const named = await start({ SLACK_ADMINS: ADMIN });
    expect((await kaizen(named, slack, 'pending')).text).toBe('Nobody is waiting for a decision.');
  });

  it('takes the members of a private channel, but never a guest or a deactivated account', async () => {
    slack.setChannelInfo(CHANNEL, { isPrivate: true });
    const bot = await start();
    expect((await kaizen(bot, slack, 'pending')).text).toBe('Nobody is waiting for a decision.');
    for (const user of [GUEST, SINGLE_CHANNEL_GUEST, GONE]) {
      const reply = await kaizen(bot, slack, 'pending', user);
      expect(reply.text).toContain('is not allowed for you');
    }
  });

  it('never takes a guest or a deactivated account named in SLACK_ADMINS either', async () => {
    const bot = await start({ SLACK_ADMINS: [ADMIN, GUEST, SINGLE_CHANNEL_GUEST, GONE].join(',') });
    expect((await kaizen(bot, slack, 'pending')).text).toBe('Nobody is waiting for a decision.');
    for (const user of [GUEST, SINGLE_CHANNEL_GUEST, GONE]) {
      expect((await kaizen(bot, slack, 'pending', user)).text).toContain('is not allowed for you');
    }
  });
});
