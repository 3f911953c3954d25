import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import { rejectApplicant } from '../../src/domain/provision/reject.js';
import { DOCTOR_DEADLINE_MS, type DoctorLine } from '../../src/ops/doctor.js';
import type { Decision } from '../../src/ops/overview.js';
import { appHomeView, type HomeInput } from '../../views/app-home.js';
import { APPLICANT_ACTIONS } from '../../views/applicant-card.js';
import { HOUR, pendingApplication, waitUntil } from '../domain/reminders/fixtures.js';
import { adminClient, newMember } from '../keystone/fixtures.js';
import {
  keystoneEnv,
  startTestBot,
  TEST_SIGNING_SECRET,
  TEST_SLACK_TIMEOUT_MS,
  type TestBot,
  testEnv,
} from '../support/bot.js';
import { type SlackFake, startSlackFake } from '../support/slack-fake.js';
import { sendEvent } from '../support/slack-sign.js';

const NOW = new Date('2026-11-05T12:00:00Z');
/**
 * How long a Home tab can take to appear: the health checks' own deadline (a one-thread Keystone
 * may use all of it), then the views.publish call's.
 */
const HOME_DEADLINE_MS = DOCTOR_DEADLINE_MS + TEST_SLACK_TIMEOUT_MS;

function input(overrides: Partial<HomeInput> = {}): HomeInput {
  return {
    now: NOW,
    isAdmin: true,
    pending: [],
    decisions: [],
    unusedLinks: [],
    health: [],
    ...overrides,
  };
}

const decisions: Decision[] = [
  {
    at: '2026-11-05T10:00:00.000Z',
    actor: 'U0ADMIN',
    action: 'approve',
    applicant: 'Ann Lee (ann@example.org)',
    rejectReason: undefined,
  },
  {
    at: '2026-11-05T11:00:00.000Z',
    actor: 'cli:ops',
    action: 'reject',
    applicant: 'Bob <b> (bob@example.org)',
    rejectReason: 'not affiliated',
  },
];

const health: DoctorLine[] = [
  { name: 'redis', status: 'ok', detail: 'PING answered' },
  { name: 'sheets', status: 'off', detail: 'not configured: set GOOGLE_SHEET_ID' },
  { name: 'keystone', status: 'failing', detail: 'Keystone did not answer' },
];

describe('the App Home view', () => {
  it('shows a non-admin only what the app is for', () => {
    const view = appHomeView(input({ isAdmin: false, pending: [] }));
    expect(view.type).toBe('home');
    expect(view.blocks).toHaveLength(2);
    expect(view.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Kaizen Registration' },
    });
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('one-time link');
    expect(text).not.toContain('Approve');
  });

  it('lists a waiting applicant with their wait, a card link and the card’s own buttons', () => {
    const view = appHomeView(
      input({
        pending: [
          {
            id: 'app-1',
            name: 'Ann <Lee>',
            email: 'ann@example.org',
            project: 'genomics',
            since: new Date(NOW.getTime() - 26 * HOUR).toISOString(),
            card: { channel: 'C0ADMINS', ts: '1700000000.000100' },
          },
        ],
      }),
    );
    expect(view.blocks.slice(0, 3)).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Waiting for a decision' } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*Ann &lt;Lee&gt;* (ann@example.org)\ngenomics · waiting 26 hours · <https://slack.com/archives/C0ADMINS/p1700000000000100|open the card>',
        },
      },
      {
        type: 'actions',
        block_id: 'home_pending:app-1',
        elements: [
          {
            type: 'button',
            action_id: APPLICANT_ACTIONS.approve,
            text: { type: 'plain_text', text: 'Approve' },
            value: 'app-1',
            style: 'primary',
          },
          {
            type: 'button',
            action_id: APPLICANT_ACTIONS.quota,
            text: { type: 'plain_text', text: 'Quota' },
            value: 'app-1',
          },
          {
            type: 'button',
            action_id: APPLICANT_ACTIONS.reject,
            text: { type: 'plain_text', text: 'Reject' },
            value: 'app-1',
            style: 'danger',
          },
        ],
      },
    ]);
  });

  it('shows decisions, unused links and health, each as one section', () => {
    const view = appHomeView(
      input({
        decisions,
        unusedLinks: [
          {
            email: 'bob@example.org',
            issuedAt: new Date(NOW.getTime() - 3 * 24 * HOUR).toISOString(),
            expiresAt: undefined,
            remindersSent: 1,
          },
        ],
        health,
      }),
    );
    const sections = view.blocks
      .filter((block) => block.type === 'section')
      .map((block) => (block as { text: { text: string } }).text.text);
    expect(sections).toEqual([
      'Nobody is waiting. :tada:',
      [
        '<!date^1793872800^{date_short_pretty} at {time}|2026-11-05 10:00 UTC> · <@U0ADMIN> approved *Ann Lee (ann@example.org)*',
        '<!date^1793876400^{date_short_pretty} at {time}|2026-11-05 11:00 UTC> · cli:ops rejected *Bob &lt;b&gt; (bob@example.org)* — not affiliated',
      ].join('\n'),
      '*bob@example.org* · sent 3 days ago · expired · 1 reminder',
      [
        ':large_green_circle: *redis* ok — PING answered',
        ':white_circle: *sheets* off — not configured: set GOOGLE_SHEET_ID',
        ':red_circle: *keystone* failing — Keystone did not answer',
      ].join('\n'),
    ]);
  });

  it('says so when the health checks did not answer, and keeps within 100 blocks for a long queue', () => {
    const pending = Array.from({ length: 60 }, (_, i) => ({
      id: `app-${i}`,
      name: `Person ${i}`,
      email: `p${i}@example.org`,
      project: 'p',
      since: NOW.toISOString(),
      card: undefined,
    }));
    const view = appHomeView(input({ pending, health: undefined }));
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('…and 40 more');
    expect(text).toContain('did not answer in time');
  });
});

describe('app_home_opened', () => {
  let slack: SlackFake;
  let running: TestBot;

  beforeAll(async () => {
    slack = await startSlackFake();
    running = await startTestBot(
      testEnv({
        ...keystoneEnv(inject('keystone')),
        PUBLIC_URL: 'https://register.example.org',
        SLACK_API_URL: `${slack.url}/api/`,
        SLACK_ADMINS: 'U0ADMIN',
      }),
    );
  });
  // Slack refuses what breaks Block Kit's limits; so does the fake.
  afterEach(() => slack?.assertNothingRefused());
  afterAll(async () => {
    await running?.stop();
    await slack?.close();
  });

  it('publishes the queue for an admin', async () => {
    const store = new ApplicationStore(running.bot.services.redis);
    await pendingApplication(
      store,
      { channel: 'C0ADMINS', ts: '1700000000.000200' },
      { email: 'home@example.org' },
    );
    const reply = await sendEvent(running.eventsUrl, TEST_SIGNING_SECRET, {
      type: 'app_home_opened',
      user: 'U0ADMIN',
      channel: 'D0HOME',
      tab: 'home',
    });
    expect(reply.status).toBe(200);
    await slack.waitFor(
      (calls) => calls.some((c) => c.method === 'views.publish' && c.args.user_id === 'U0ADMIN'),
      HOME_DEADLINE_MS,
    );
    const published = slack.homeView('U0ADMIN');
    const text = JSON.stringify(published?.view);
    expect(text).toContain('home@example.org');
    expect(text).toContain(APPLICANT_ACTIONS.approve);
    // The health section, as `kaizen doctor` sees it: Redis is up, Slack answers the fake's auth.test.
    expect(text).toContain('*redis* ok');
    expect(text).toContain('*slack* ok');
  });

  it('shows the decisions taken and the users whose link is unused, from the bot’s own records', async () => {
    const { services } = running.bot;
    const store = new ApplicationStore(services.redis);
    const rejected = await pendingApplication(store, undefined, {
      email: 'turned-down@example.org',
      firstName: 'Tess',
      lastName: 'Down',
    });
    const outcome = await rejectApplicant(services.provision!, rejected.id, 'U0ADMIN', {
      reason: 'not affiliated with the lab',
      notifyApplicant: false,
    });
    expect(outcome.kind).toBe('rejected');

    const { user } = await newMember(adminClient());
    const approved = await pendingApplication(store, undefined, { email: user.name });
    await store.transition(approved.id, ['pending'], 'approving', { decidedBy: 'U0ADMIN' });
    await services.setpass!.issue(
      { userId: user.id, username: user.name },
      services.setpass!.hashPin('2468'),
    );
    await store.checkpoint(approved.id, 'user', user.id);
    await store.checkpoint(approved.id, 'setpass', 'issued');
    await store.transition(approved.id, ['approving'], 'notified');

    const before = slack.calls('views.publish').length;
    await sendEvent(running.eventsUrl, TEST_SIGNING_SECRET, {
      type: 'app_home_opened',
      user: 'U0ADMIN',
      tab: 'home',
    });
    await slack.waitFor(
      (calls) => calls.filter((c) => c.method === 'views.publish').length > before,
      HOME_DEADLINE_MS,
    );
    const text = JSON.stringify(slack.homeView('U0ADMIN')?.view);
    expect(text).toContain(
      '<@U0ADMIN> rejected *Tess Down (turned-down@example.org)* — not affiliated with the lab',
    );
    const linkLine = text.split('\\n').find((line) => line.includes(`*${user.name}*`));
    expect(linkLine).toMatch(/· sent \d+ minutes? ago · expires <!date\^\d+\^.*· no reminder yet/);
  });

  it('publishes the explanation for anyone else', async () => {
    await sendEvent(running.eventsUrl, TEST_SIGNING_SECRET, {
      type: 'app_home_opened',
      user: 'U0VISITOR',
      channel: 'D0VISIT',
      tab: 'home',
    });
    await slack.waitFor(
      (calls) => calls.some((c) => c.method === 'views.publish' && c.args.user_id === 'U0VISITOR'),
      HOME_DEADLINE_MS,
    );
    const text = JSON.stringify(slack.homeView('U0VISITOR')?.view);
    expect(text).toContain('Kaizen Registration');
    expect(text).not.toContain('home@example.org');
  });

  it('publishes nothing for the Messages tab', async () => {
    const reply = await sendEvent(running.eventsUrl, TEST_SIGNING_SECRET, {
      type: 'app_home_opened',
      user: 'U0MESSAGES',
      channel: 'D0MSG',
      tab: 'messages',
    });
    expect(reply.status).toBe(200);
    await sendEvent(running.eventsUrl, TEST_SIGNING_SECRET, {
      type: 'app_home_opened',
      user: 'U0MESSAGES',
      tab: 'home',
    });
    await slack.waitFor(
      (calls) => calls.some((c) => c.method === 'views.publish' && c.args.user_id === 'U0MESSAGES'),
      HOME_DEADLINE_MS,
    );
    await waitUntil(
      () => running.bot.services.inflight.size === 0,
      'background work to finish',
      HOME_DEADLINE_MS,
    );
    expect(slack.calls('views.publish').filter((c) => c.args.user_id === 'U0MESSAGES')).toHaveLength(1);
  });
});
