/**
 * The metrics follow the work: after an approval, a rejection, a failed step (and its Retry), a
 * lockout and a sheet poll on a real bot, each named series moved by exactly what happened. The
 * same run checks the log of a failed Keystone step: the error with its stack, and one request id
 * from the click to the Keystone calls it made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Metrics } from '../../src/platform/metrics.js';
import {
  ADMIN_1,
  applicantWithCard,
  buttonsOf,
  click,
  type Harness,
  isApproved,
  OUTSIDER,
  poll,
  recordOf,
  setApplications,
  startHarness,
  uniqueApplicant,
  waitForCard,
} from '../approval/harness.js';
import { waitUntil } from '../domain/reminders/fixtures.js';
import { submit as submitPage, tokenOf } from '../domain/setpass/helpers.js';
import { TEST_SIGNING_SECRET, type TestBot } from '../support/bot.js';
import { type CapturedLog, captureLogs } from '../support/log-capture.js';
import { metricValue, metricValues } from '../support/metrics.js';
import { sendViewSubmission } from '../support/slack-sign.js';

let world: Harness;
let bot: TestBot;
let logs: CapturedLog;
let metrics: Metrics;

beforeAll(async () => {
  world = await startHarness('metrics');
  logs = captureLogs('debug');
  bot = await world.start(undefined, {}, logs.log);
  metrics = bot.bot.services.metrics;
});
afterAll(async () => {
  await world?.close();
});

/** How much each series moved while `work` ran. */
async function moved<K extends string>(
  series: Record<K, [name: string, labels?: Record<string, string>]>,
  work: () => Promise<void>,
): Promise<Record<K, number>> {
  const before = await metricValues(metrics, series);
  await work();
  const after = await metricValues(metrics, series);
  return Object.fromEntries(
    Object.keys(series).map((key) => [key, after[key as K] - before[key as K]]),
  ) as Record<K, number>;
}

type LogLine = {
  msg: string;
  requestId?: string;
  err?: { type: string; message: string; stack: string; kind?: string; service?: string };
};
const lines = (): LogLine[] => logs.lines.map((line) => JSON.parse(line) as LogLine);

describe('the work metrics', () => {
  it('an approval: one provisioned run, one link issued, one email sent, Keystone and Slack calls counted', async () => {
    const ann = await applicantWithCard(world, bot, 'metrics-ok');
    const delta = await moved(
      {
        provisioned: ['kaizen_approvals_total', { outcome: 'provisioned' }],
        failed: ['kaizen_approvals_total', { outcome: 'failed' }],
        issued: ['kaizen_setpass_links_total', { event: 'issued' }],
        smtp: ['kaizen_smtp_send_duration_seconds_count', { outcome: 'ok' }],
        keystone: ['kaizen_keystone_request_duration_seconds_count', { outcome: 'ok' }],
        userCreated: ['kaizen_keystone_request_duration_seconds_count', { operation: 'POST /users' }],
        slackUpdates: ['kaizen_slack_api_request_duration_seconds_count', { method: 'chat.update' }],
        clicks: ['kaizen_http_request_duration_seconds_count', { route: '/slack/events', status: '200' }],
        refusedOutsider: ['kaizen_refused_requests_total', { reason: 'non_admin' }],
      },
      async () => {
        expect((await click(bot, ann.card, OUTSIDER, 'applicant_approve')).status).toBe(200);
        expect((await click(bot, ann.card, ADMIN_1, 'applicant_approve')).status).toBe(200);
        await waitForCard(world.slack, ann.email, isApproved);
        await world.smtp.waitForMessages(1);
      },
    );
    expect(delta).toMatchObject({
      provisioned: 1,
      failed: 0,
      issued: 1,
      smtp: 1,
      userCreated: 1,
      clicks: 2,
      refusedOutsider: 1,
    });
    expect(delta.keystone).toBeGreaterThan(5);
    expect(delta.slackUpdates).toBeGreaterThan(0);
  });

  it('a rejection: one rejected', async () => {
    const eve = await applicantWithCard(world, bot, 'metrics-reject');
    const delta = await moved(
      {
        rejected: ['kaizen_rejections_total', { outcome: 'rejected' }],
        again: ['kaizen_rejections_total', { outcome: 'already_rejected' }],
      },
      async () => {
        const reply = await sendViewSubmission(bot.eventsUrl, TEST_SIGNING_SECRET, {
          user: ADMIN_1,
          callbackId: 'applicant_reject_modal',
          privateMetadata: eve.id,
          values: { reject_reason: { reason: 'Apply through your sponsor' } },
        });
        expect(reply.status).toBe(200);
        await waitUntil(async () => (await recordOf(bot, eve.id))?.state === 'rejected', 'the rejection');
      },
    );
    expect(delta).toEqual({ rejected: 1, again: 0 });
  });

  it('a failed step and its Retry: one failure of the project step, one failed run, one failed retry; the log has the stack and one request id', async () => {
    const gus = await applicantWithCard(world, bot, 'metrics-fail', {
      projectKind: 'Existing project',
      newProjectName: '',
      existingProjectName: `no-such-project-${Date.now()}`,
    });
    const hasRetry = (card: Parameters<typeof buttonsOf>[0]) =>
      buttonsOf(card).some((button) => button.action_id === 'applicant_retry');
    const delta = await moved(
      {
        stepFailures: ['kaizen_provision_step_failures_total', { step: 'project', kind: 'not_found' }],
        failed: ['kaizen_approvals_total', { outcome: 'failed' }],
        retriesFailed: ['kaizen_approval_retries_total', { outcome: 'failed' }],
      },
      async () => {
        const failedRuns = () => metricValue(metrics, 'kaizen_approvals_total', { outcome: 'failed' });
        const before = await failedRuns();
        await click(bot, gus.card, ADMIN_1, 'applicant_approve');
        await waitUntil(async () => (await failedRuns()) === before + 1, 'the approval to fail');
        await click(bot, await waitForCard(world.slack, gus.email, hasRetry), ADMIN_1, 'applicant_retry');
        await waitUntil(async () => (await failedRuns()) === before + 2, 'the retry to fail');
      },
    );
    expect(delta).toEqual({ stepFailures: 2, failed: 2, retriesFailed: 1 });

    const failure = lines().find((line) => line.msg === 'provisioning step failed');
    expect(failure?.err).toMatchObject({ type: 'KaizenError', kind: 'not_found', service: 'keystone' });
    expect(failure?.err?.message).toContain('There is no project named');
    expect(failure?.err?.stack).toMatch(/KaizenError: There is no project named[\s\S]*\n\s+at /);
    // The click, the run and its Keystone calls share the click's request id.
    expect(failure?.requestId).toMatch(/^[0-9a-f]{16}$/);
    const sameRequest = lines().filter((line) => line.requestId === failure?.requestId);
    expect(sameRequest.some((line) => line.msg === 'keystone call')).toBe(true);
  });

  it('a lockout: three wrong PINs, one lockout', async () => {
    const kim = await applicantWithCard(world, bot, 'metrics-lock');
    world.smtp.reset();
    await click(bot, kim.card, ADMIN_1, 'applicant_approve');
    const [mail] = await world.smtp.waitForMessages(1, 20_000);
    const token = tokenOf(/https:\/\/\S+\?token=[\w-]{43}/.exec(mail?.text ?? '')?.[0] ?? '');
    expect(token).not.toBe('');
    const delta = await moved(
      {
        wrongPins: ['kaizen_setpass_wrong_pins_total'],
        lockouts: ['kaizen_setpass_lockouts_total'],
        redeemed: ['kaizen_setpass_links_total', { event: 'redeemed' }],
      },
      async () => {
        for (let attempt = 0; attempt < 3; attempt++) {
          await submitPage(bot.url, token, { pin: '9999', password: 'x' });
        }
      },
    );
    expect(delta).toEqual({ wrongPins: 3, lockouts: 1, redeemed: 0 });
  });

  it('a sheet poll: one poll timed, one invalid row noticed once, the time of the last read recorded in Redis', async () => {
    const good = uniqueApplicant('metrics-poll');
    const bad = uniqueApplicant('metrics-bad', { pin: '12' });
    setApplications(world.sheets, [good.cells, bad.cells]);
    const delta = await moved(
      {
        polls: ['kaizen_sheet_poll_duration_seconds_count', { outcome: 'ok' }],
        invalid: ['kaizen_sheet_invalid_rows_total'],
      },
      async () => {
        expect(await poll(bot)).toMatchObject({ new: 1, invalid: 1 });
        expect(await poll(bot)).toMatchObject({ new: 0, invalid: 1 });
      },
    );
    expect(delta).toEqual({ polls: 2, invalid: 1 });
    const age = await metricValue(metrics, 'kaizen_sheet_last_read_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
  });

  it('applications by state come from Redis', async () => {
    const states = await metricValues(metrics, {
      pending: ['kaizen_applications', { state: 'pending' }],
      rejected: ['kaizen_applications', { state: 'rejected' }],
      failed: ['kaizen_applications', { state: 'failed' }],
      provisioned: ['kaizen_applications', { state: 'provisioned' }],
      notified: ['kaizen_applications', { state: 'notified' }],
      approving: ['kaizen_applications', { state: 'approving' }],
    });
    // metrics-ok and metrics-lock approved, metrics-reject rejected, metrics-fail failed, metrics-poll pending.
    expect(states).toMatchObject({ pending: 1, rejected: 1, failed: 1, approving: 0 });
    expect(states.provisioned + states.notified).toBe(2);
  });
});
