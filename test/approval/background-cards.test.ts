/**
 * Cards redrawn by work no click started: the outbox delivering a welcome email that was queued at
 * approval time, or giving it up for good, and the next bot resuming an approval whose run died.
 * All through running bots, the Slack fake, the test SMTP server and the real Keystone.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApproval } from '../../src/domain/provision/approve.js';
import { RunLock } from '../../src/domain/provision/run-lock.js';
import { welcomeMailKey } from '../../src/domain/provision/steps.js';
import { keys } from '../../src/platform/keys.js';
import { type TestBot, uniquePrefix } from '../support/bot.js';
import {
  ADMIN_1,
  ADMIN_2,
  applicantWithCard,
  buttonsOf,
  cardOf,
  click,
  type Harness,
  isApproved,
  recordOf,
  startHarness,
  textOf,
  waitForCard,
} from './harness.js';

let world: Harness;
let bot: TestBot;

beforeAll(async () => {
  world = await startHarness('background');
  bot = await world.start();
});
afterAll(async () => {
  await world?.close();
});
beforeEach(async () => {
  await world.smtp.start();
  world.smtp.reset();
});

/**
 * Makes the queued mail due now instead of after its backoff (30 s and more): the clock moving on,
 * for the worker's next pass.
 */
async function retryFallsDue(running: TestBot): Promise<void> {
  const { redis } = running.bot.services;
  const queued = await redis.zrange(keys.mailOutbox(), 0, -1);
  expect(queued.length).toBeGreaterThan(0);
  for (const id of queued) await redis.zadd(keys.mailOutbox(), 'XX', 0, id);
}

describe('the welcome email after the approval', () => {
  it('queued while the relay was down: the card says so, then shows it sent once the outbox delivers', async () => {
    const { email, id } = await applicantWithCard(world, bot, 'queued');
    await world.smtp.stop();
    await click(bot, cardOf(world.slack, email), ADMIN_1, 'applicant_approve');
    const queued = await waitForCard(world.slack, email, isApproved);
    expect(textOf(queued)).toContain('email queued');
    expect(await recordOf(bot, id)).toMatchObject({ state: 'provisioned', checkpoints: { email: 'queued' } });

    await world.smtp.start();
    await retryFallsDue(bot);
    const [mail] = await world.smtp.waitForMessages(1, 20_000);
    expect(mail?.to).toEqual([email]);
    const sent = await waitForCard(world.slack, email, (card) => !textOf(card).includes('email queued'));
    expect(textOf(sent)).toContain('password link ✓ · email ✓ · sheet ✓');
    expect(textOf(sent)).toContain(`Approved by <@${ADMIN_1}>`);
    expect(buttonsOf(sent)).toEqual([]);
    expect(await recordOf(bot, id)).toMatchObject({ state: 'notified', checkpoints: { email: 'sent' } });
    const audit = await bot.bot.services.audit.read({ subject: id, limit: 50 });
    expect(audit.filter((entry) => entry.action === 'mail.welcome')).toMatchObject([
      { outcome: 'ok', detail: 'delivered' },
    ]);
  });

  it('refused for good at once: the card says it could not be delivered and how to send the link again', async () => {
    const { email, id } = await applicantWithCard(world, bot, 'refused');
    world.smtp.refuseNext(1);
    await click(bot, cardOf(world.slack, email), ADMIN_1, 'applicant_approve');
    const done = await waitForCard(world.slack, email, isApproved);
    expect(textOf(done)).toContain(
      `:warning: welcome email could not be delivered: The mail relay at 127.0.0.1:${world.smtp.port} refused the message (SMTP 550) (after 1 attempt); use /kaizen resend ${email}`,
    );
    expect(textOf(done)).toContain('password link ✓ · email ✗ · sheet ✓');
    expect(textOf(done)).not.toContain('email queued');
    expect(await recordOf(bot, id)).toMatchObject({
      state: 'provisioned',
      checkpoints: { email: 'undelivered' },
    });
    expect(await bot.bot.services.mail?.status(welcomeMailKey(id))).toBe('failed');
    expect(world.smtp.messages).toEqual([]);
  });

  it('queued, then refused when the relay is back: the card stops saying queued and says why', async () => {
    const { email, id } = await applicantWithCard(world, bot, 'later');
    await world.smtp.stop();
    await click(bot, cardOf(world.slack, email), ADMIN_2, 'applicant_approve');
    const queued = await waitForCard(world.slack, email, isApproved);
    expect(textOf(queued)).toContain('email queued');

    await world.smtp.start();
    world.smtp.refuseNext(1);
    await retryFallsDue(bot);
    const told = await waitForCard(world.slack, email, (card) =>
      textOf(card).includes('could not be delivered'),
    );
    expect(textOf(told)).toContain(
      `welcome email could not be delivered: The mail relay at 127.0.0.1:${world.smtp.port} refused the message (SMTP 550) (after 2 attempts); use /kaizen resend ${email}`,
    );
    expect(textOf(told)).toContain('email ✗');
    expect(textOf(told)).not.toContain('email queued');
    expect(await recordOf(bot, id)).toMatchObject({
      state: 'provisioned',
      checkpoints: { email: 'undelivered' },
    });
    const audit = await bot.bot.services.audit.read({ subject: id, limit: 50 });
    expect(audit.filter((entry) => entry.action === 'mail.welcome')).toMatchObject([
      { outcome: 'failed', detail: expect.stringContaining('(SMTP 550)') },
    ]);
  });
});

describe('an approval whose run died', () => {
  it('is resumed by the next bot, which redraws its card to approved', async () => {
    const prefix = uniquePrefix('background');
    const dying = await world.start(prefix);
    const { email, id } = await applicantWithCard(world, dying, 'resumed');
    const { redis, provision } = dying.bot.services;
    expect((await startApproval(provision!, id, ADMIN_1)).kind).toBe('started');
    // What the bot leaves when it dies before its first step and its lease runs out: the record in
    // `approving`, untouched for longer than a run takes, with no lease held.
    const stored = JSON.parse((await redis.get(keys.application(id)))!) as { updatedAt: string };
    stored.updatedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    await redis.set(keys.application(id), JSON.stringify(stored));
    expect(await RunLock.held(redis, id)).toBe(false);
    await dying.stop();
    expect(buttonsOf(cardOf(world.slack, email)).map((button) => button.text)).toEqual([
      'Approve',
      'Quota',
      'Reject',
    ]);

    const next = await world.start(prefix);
    const done = await waitForCard(world.slack, email, isApproved);
    expect(textOf(done)).toContain(`Approved by <@${ADMIN_1}>`);
    expect(textOf(done)).toContain('project ✓ · user ✓ · role ✓ · quotas ✓ · password link ✓ · email ✓');
    expect((await recordOf(next, id))?.state).toBe('notified');
    const [mail] = await world.smtp.waitForMessages(1);
    expect(mail?.to).toEqual([email]);
  });
});
