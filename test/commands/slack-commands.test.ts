/**
 * `/kaizen` through Bolt's real HTTP endpoint: signed requests, the bot's own Redis and the real
 * Keystone. Every reply is ephemeral, readable, and a bad input changes nothing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import { adminClient, newMember } from '../keystone/fixtures.js';
import {
  keystoneEnv,
  startTestBot,
  TEST_ADMIN_CHANNEL,
  TEST_BOT_TOKEN,
  TEST_SIGNING_SECRET,
  type TestBot,
  testEnv,
} from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { sendSlashCommand } from '../support/slack-sign.js';
import { ADMIN, applicant, expectReadable, kaizen, OUTSIDER } from './helpers.js';

describe('/kaizen in Slack', () => {
  let slack: SlackFake;
  let running: TestBot;
  let store: ApplicationStore;
  let member: Awaited<ReturnType<typeof newMember>>;

  /** Every key the bot holds except the audit stream and the marks of handled requests: what a refused command must not change. */
  async function snapshot(): Promise<string[]> {
    const redis = running.bot.services.redis;
    const prefix = running.env.REDIS_KEY_PREFIX ?? '';
    const found = await redis.keys(`${prefix}*`);
    return found
      .map((key) => key.slice(prefix.length))
      .filter((key) => key !== 'audit' && !key.startsWith('slack:seen:'))
      .sort();
  }

  beforeAll(async () => {
    slack = await startSlackFake();
    running = await startTestBot(
      testEnv({
        SLACK_API_URL: `${slack.url}/api/`,
        SLACK_ADMINS: ADMIN,
        ...keystoneEnv(inject('keystone')),
      }),
    );
    store = new ApplicationStore(running.bot.services.redis);
    member = await newMember(adminClient());
    slack.addUser({ id: 'U0MEMBER', name: 'member', email: member.user.name });
  });
  // Slack refuses what breaks Block Kit's limits; so does the fake.
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  describe('help and unknown words', () => {
    it.each(['help', 'HELP', '', '   '])('answers %j with the help text and examples', async (text) => {
      const reply = await kaizen(running, slack, text, OUTSIDER);
      expect(reply.text).toContain('/kaizen reset ann@example.org');
      expect(reply.text).toContain('/kaizen pending');
      expectReadable(reply.text);
    });

    it('answers an unknown subcommand with the help text, naming the word', async () => {
      const reply = await kaizen(running, slack, 'frobnicate ann@example.org');
      expect(reply.text).toMatch(/I don't know `frobnicate`/);
      expect(reply.text).toContain('/kaizen status');
    });
  });

  describe('callers who are not admins', () => {
    it.each(['pending', 'sync', `status ${'x@example.org'}`, 'resend x@example.org', 'reset x@example.org'])(
      'are told "not allowed" for %j, and nothing changes',
      async (text) => {
        const before = await snapshot();
        const reply = await kaizen(running, slack, text, OUTSIDER);
        expect(reply.text).toMatch(/not allowed/);
        expectReadable(reply.text);
        expect(await snapshot()).toEqual(before);
        const audit = await running.bot.services.audit.read({ limit: 1 });
        expect(audit[0]).toMatchObject({ actor: OUTSIDER, outcome: 'denied' });
      },
    );
  });

  describe('malformed input', () => {
    it.each([
      ['status', /Usage: `\/kaizen status <email\|username>` \(missing user\)/],
      ['reset', /Usage: `\/kaizen reset <email\|username>` \(missing user\)/],
      ['RESEND   ', /Usage: `\/kaizen resend <email\|username>` \(missing user\)/],
      ['status a@example.org b@example.org', /Usage: `\/kaizen status .*\(unexpected "b@example.org"\)/],
      ['pending --all', /Usage: `\/kaizen pending` \(unknown option "--all"\)/],
      ['reset --yes a@example.org', /Usage: `\/kaizen reset .*\(unknown option "--yes"\)/],
      ['sync now', /Usage: `\/kaizen sync` \(unexpected "now"\)/],
      ['status <#C0123|general>', /Usage: `\/kaizen status .*is not an email, a user name or an @mention/],
    ])('answers %j with a short usage line and changes nothing', async (text, usage) => {
      const before = await snapshot();
      const reply = await kaizen(running, slack, text);
      expect(reply.status).toBe(200);
      expect(reply.text).toMatch(usage);
      expect(reply.text.split('\n')).toHaveLength(1);
      expectReadable(reply.text);
      expect(await snapshot()).toEqual(before);
    });

    it('says who is unknown and offers close matches from Keystone', async () => {
      const local = member.user.name.split('@')[0]!;
      const reply = await kaizen(running, slack, `status ${local}@example.net`);
      expect(reply.text).toContain(`No user *${local}@example.net* in Keystone.`);
      expect(reply.text).toContain(`Did you mean \`${member.user.name}\``);
      expectReadable(reply.text);
    });

    it('says so when a mentioned Slack user has no email it can read, and changes nothing', async () => {
      const before = await snapshot();
      const reply = await kaizen(running, slack, 'status <@U0NOBODY|nobody>');
      expect(reply.text).toMatch(/Slack gives no email address for the user U0NOBODY/);
      expectReadable(reply.text);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('pending', () => {
    it('lists waiting applicants oldest first, each with a link to its card', async () => {
      const poster = new WebClient(TEST_BOT_TOKEN, { slackApiUrl: `${slack.url}/api/` });
      const first = applicant({ email: 'first@example.org', firstName: 'Fay', lastName: 'First' });
      const second = applicant({ email: 'second@example.org', firstName: 'Sam', lastName: 'Second' });
      for (const a of [first, second]) {
        // The index orders by the millisecond a record was made: the second comes a millisecond later.
        const made = Date.now();
        while (Date.now() === made) await Promise.resolve();
        await store.create({ applicant: a, pinHash: undefined, quota: { kind: 'preset', preset: 'small' } });
      }
      const posted = await poster.chat.postMessage({ channel: TEST_ADMIN_CHANNEL, text: 'card of Fay' });
      await store.update(first.id, ['pending'], { card: { channel: TEST_ADMIN_CHANNEL, ts: posted.ts! } });
      const decided = applicant({ email: 'decided@example.org' });
      await store.create({
        applicant: decided,
        pinHash: undefined,
        quota: { kind: 'preset', preset: 'small' },
      });
      await store.transition(decided.id, ['pending'], 'rejected', { rejectReason: 'no sponsor' });

      const reply = await kaizen(running, slack, 'PENDING');
      const shown = reply.blocksText;
      expect(reply.text).toMatch(/2 applicants are waiting for a decision, oldest first/);
      expect(shown.indexOf('Fay First')).toBeGreaterThan(-1);
      expect(shown.indexOf('Fay First')).toBeLessThan(shown.indexOf('Sam Second'));
      expect(shown).toContain(`|card>`);
      expect(shown).toContain(`/archives/${TEST_ADMIN_CHANNEL}/p${posted.ts!.replace('.', '')}`);
      expect(shown).toContain('no card yet');
      expect(shown).not.toContain('decided@example.org');
      expect(slack.calls('chat.getPermalink')).toHaveLength(1);
      expectReadable(reply.text);
    });
  });

  describe('status', () => {
    it('shows the application state with its failed step, projects and roles, link, reminders and audit', async () => {
      const email = member.user.name;
      const record = applicant({
        email,
        project: { kind: 'new', name: member.project.name, description: 'x' },
      });
      await store.create({
        applicant: record,
        pinHash: undefined,
        quota: { kind: 'preset', preset: 'small' },
      });
      await store.transition(record.id, ['pending'], 'approving', {
        decidedBy: ADMIN,
        decidedAt: new Date().toISOString(),
      });
      await store.transition(record.id, ['approving'], 'failed', {
        failure: { step: 'quotas', message: 'Nova answered 503' },
      });
      await running.bot.services.audit.record({
        actor: ADMIN,
        action: 'approve',
        subject: record.id,
        outcome: 'failed',
        detail: 'quotas: Nova answered 503',
      });

      for (const text of [
        `status ${email.toUpperCase()}`,
        `status <mailto:${email}|${email}>`,
        'status <@U0MEMBER|member>',
      ]) {
        const reply = await kaizen(running, slack, text);
        const shown = reply.blocksText;
        expect(shown).toContain(`Status of *${email}*`);
        expect(shown).toContain('failed at step quotas');
        expect(shown).toContain('Nova answered 503');
        expect(shown).toContain(`${member.project.name} (member`);
        expect(shown).toContain('*Last reminder:* none');
        expect(shown).toMatch(/Recent audit[\s\S]*approve/);
        expectReadable(shown);
      }
    });

    it('shows a Keystone user who never applied through the bot', async () => {
      const reply = await kaizen(running, slack, `status ${inject('keystone').username}`);
      expect(reply.blocksText).toContain('*Application:* none on record');
      expect(reply.blocksText).toMatch(/\*Keystone:\* user \w+; admin \(/);
    });
  });

  describe('sync', () => {
    it('says which settings turn the sheet on when it is off', async () => {
      const reply = await kaizen(running, slack, 'sync');
      expect(reply.text).toMatch(
        /not configured here: set GOOGLE_APPLICATION_CREDENTIALS and GOOGLE_SHEET_ID/,
      );
      expectReadable(reply.text);
    });
  });

  describe('a command slower than Slack waits for', () => {
    let held: ServerResponse[] = [];
    let slowKeystone: Server;
    let slowBot: TestBot;

    beforeAll(async () => {
      // Holds every request until the test lets go, so the command is slow for as long as the test needs.
      slowKeystone = createServer((_req: IncomingMessage, res: ServerResponse) => {
        held.push(res);
      });
      await new Promise<void>((resolve) => slowKeystone.listen(0, '127.0.0.1', resolve));
      const { port } = slowKeystone.address() as AddressInfo;
      slowBot = await startTestBot(
        testEnv({
          SLACK_API_URL: `${slack.url}/api/`,
          SLACK_ADMINS: ADMIN,
          ...keystoneEnv(inject('keystone')),
          OS_AUTH_URL: `http://127.0.0.1:${port}/v3`,
        }),
      );
    });
    afterAll(async () => {
      for (const res of held) res.destroy();
      await slowBot?.stop();
      slowKeystone.closeAllConnections();
      await new Promise((resolve) => slowKeystone.close(resolve));
    });

    it('acks with "working on it" and answers through the response URL when done', async () => {
      const id = 'slow-status';
      const raw = await sendSlashCommand(slowBot.eventsUrl, TEST_SIGNING_SECRET, {
        text: 'status ann@example.org',
        user_id: ADMIN,
        response_url: slack.responseUrl(id),
      });
      expect(raw.status).toBe(200);
      expect(raw.json).toEqual({
        response_type: 'ephemeral',
        text: ':hourglass_flowing_sand: Working on it…',
      });
      expect(slack.responses.filter((r) => r.id === id)).toEqual([]);

      await slack.waitFor(() => held.length > 0, 5_000, 'the request to the slow Keystone');
      for (const res of held) res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
      held = [];
      const answer = await slack.waitFor(
        () => slack.responses.find((r) => r.id === id),
        15_000,
        'the late answer on the response URL',
      );
      const body = answer.body as { response_type: string; text: string };
      expect(body.response_type).toBe('ephemeral');
      expect(body.text).toMatch(/^:x: `\/kaizen status` did not work: .*Keystone/);
      expectReadable(body.text);
    });
  });
});
