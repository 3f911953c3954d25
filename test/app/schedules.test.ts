import { getTasks } from 'node-cron';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scheduledJobs } from '../../src/app/schedules.js';
import { closeServices, createServices } from '../../src/app/services.js';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import { ConfigError, loadConfig } from '../../src/platform/config/config.js';
import { silentLogger } from '../../src/platform/log.js';
import { pendingApplication } from '../domain/reminders/fixtures.js';
import { startTestBot, TEST_ADMIN_CHANNEL, type TestBot, testEnv } from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';

describe('schedule settings', () => {
  it('accept five fields, or six with seconds', () => {
    const config = loadConfig(testEnv({ REMINDER_CRON: '*/30 * * * * *', SHEET_POLL_CRON: '*/5 * * * *' }));
    expect(config.schedules.reminder).toBe('*/30 * * * * *');
    expect(config.schedules.housekeeping).toBe('7 * * * *');
    expect(config.schedules.timezone).toBe('UTC');
  });

  it('name a wrong expression and an unknown time zone at start-up', () => {
    let error: unknown;
    try {
      loadConfig(
        testEnv({ ADMIN_REMINDER_CRON: '0 25 * * *', HOUSEKEEPING_CRON: 'hourly', TZ: 'Mars/Phobos' }),
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('ADMIN_REMINDER_CRON');
    expect(problems).toContain('HOUSEKEEPING_CRON');
    expect(problems).toContain('TZ');
  });
});

describe('which jobs a bot schedules', () => {
  it('schedules housekeeping always, and each other job only when its parts are on', async () => {
    const services = createServices(loadConfig(testEnv()), silentLogger);
    try {
      const none = scheduledJobs(services, {
        notices: undefined,
        links: undefined,
        outbox: undefined,
        pollSheet: undefined,
      });
      expect(none.map((job) => job.name)).toEqual(['housekeeping']);
      const notices = { postToAdmins: async () => {}, replyInThread: async () => {} };
      const withSlack = scheduledJobs(services, {
        notices,
        links: undefined,
        outbox: undefined,
        pollSheet: async () => ({}),
      });
      expect(withSlack.map((job) => [job.name, job.schedule])).toEqual([
        ['housekeeping', '7 * * * *'],
        ['sheet-poll', '*/2 * * * *'],
        ['admin-reminders', '0 10 * * 1-5'],
      ]);
    } finally {
      await closeServices(services, 1_000);
    }
  });
});

describe('the running bot', () => {
  let slack: SlackFake;
  let running: TestBot;

  beforeAll(async () => {
    slack = await startSlackFake();
    running = await startTestBot(
      testEnv({
        SLACK_API_URL: `${slack.url}/api/`,
        ADMIN_REMINDER_CRON: '* * * * * *',
        ADMIN_REMINDER_AFTER: '1s',
      }),
    );
  });
  // Slack refuses what breaks Block Kit's limits; so does the fake.
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  it('runs the admin reminders on its schedule, and leaves no schedule behind when it stops', async () => {
    const names = () => [...getTasks().values()].map((task) => task.name).sort();
    expect(names()).toEqual(['kaizen:admin-reminders', 'kaizen:housekeeping']);
    const store = new ApplicationStore(running.bot.services.redis);
    await pendingApplication(store, undefined, { email: 'scheduled@example.org' });
    const digest = await slack.waitFor(
      (calls) =>
        calls.find(
          (c) =>
            c.method === 'chat.postMessage' &&
            c.args.channel === TEST_ADMIN_CHANNEL &&
            String(c.args.text).includes('scheduled@example.org'),
        ),
      10_000,
      'the digest',
    );
    expect(String(digest.args.text)).toContain('waiting for a decision');
    await running.stop();
    expect(names()).toEqual([]);
  });
});
