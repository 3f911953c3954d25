import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_PRESETS } from '../../src/domain/quotas/presets.js';
import { setQuotas } from '../../src/domain/quotas/setter.js';
import { keys } from '../../src/platform/keys.js';
import {
  ADMIN_1,
  APPLICATIONS_TAB,
  buttonsOf,
  click,
  type Harness,
  poll,
  startHarness,
  textOf,
} from '../approval/harness.js';
import { HEADER as APPLICATION_HEADER } from '../domain/intake/fixtures.js';
import { newMember } from '../keystone/fixtures.js';
import { TEST_ADMIN_CHANNEL, type TestBot } from '../support/bot.js';
import type { SlackStoredMessage } from '../support/slack-fake.js';

const TAB = 'Quota Requests';
const HEADER = ['Timestamp', 'Email', 'Project', 'Preset', 'instances', 'Justification'];
const DAY = 24 * 3600_000;

let world: Harness;
let withPolicy: TestBot;

beforeAll(async () => {
  world = await startHarness('quotapolicy');
  withPolicy = await world.start(undefined, { QUOTA_AUTO_APPROVE: 'true', QUOTA_AUTO_APPROVE_AFTER: '30d' });
  world.sheets.setTab(APPLICATIONS_TAB, [APPLICATION_HEADER]);
});
afterAll(async () => {
  await world?.close();
});

/** A project at the small preset whose quota the bot last changed `daysAgo` days ago. */
async function smallProject(bot: TestBot, daysAgo: number | undefined) {
  const member = await newMember(world.keystone);
  await setQuotas(world.keystone, member.project.id, BUILT_IN_PRESETS.small!);
  if (daysAgo !== undefined) {
    await bot.bot.services.redis.set(
      keys.quotaChangedAt(member.project.id),
      String(Date.now() - daysAgo * DAY),
    );
  }
  return member;
}

async function requestCard(
  bot: TestBot,
  member: Awaited<ReturnType<typeof newMember>>,
  preset: string,
  instances = '',
) {
  const row = [
    `12/02/2026 09:00:00 ${randomBytes(3).toString('hex')}`,
    member.user.name,
    member.project.name,
    preset,
    instances,
    '',
  ];
  world.sheets.setTab(TAB, [HEADER, row]);
  await poll(bot);
  const card = world.slack
    .messages(TEST_ADMIN_CHANNEL)
    .find((message) =>
      JSON.stringify(message.blocks ?? []).includes(`Quota request: ${member.project.name}`),
    );
  if (card === undefined) throw new Error('no card');
  return structuredClone(card) as SlackStoredMessage;
}

describe('QUOTA_AUTO_APPROVE', () => {
  it('applies a request one preset size up for a project unchanged for 30 days; the card says so and Revert sets it back', async () => {
    const member = await smallProject(withPolicy, 31);
    const card = await requestCard(withPolicy, member, 'medium');
    expect(textOf(card)).toContain('Applied by policy (QUOTA_AUTO_APPROVE)');
    expect(buttonsOf(card).map((button) => button.text)).toEqual(['Revert']);
    expect(world.recorder.quota('compute', member.project.id)).toMatchObject({ instances: 30, cores: 200 });
    const audit = await withPolicy.bot.services.audit.read({ subject: member.user.name });
    expect(audit[0]).toMatchObject({ action: 'quota_auto_approve', actor: 'system', outcome: 'ok' });
    const status = (world.sheets.tab(TAB) ?? [])[1]?.[HEADER.length];
    expect(status).toMatch(/^Applied \d{4}-\d{2}-\d{2} by policy$/);

    await click(withPolicy, card, ADMIN_1, 'quota_request_revert');
    const reverted = await world.slack.waitFor(
      () => {
        const now = world.slack.message(card.channel, card.ts);
        return now !== undefined && textOf(now).includes('then reverted by') ? now : undefined;
      },
      15_000,
      'the reverted card',
    );
    expect(textOf(reverted)).toContain(`then reverted by <@${ADMIN_1}>`);
    expect(buttonsOf(reverted)).toEqual([]);
    expect(world.recorder.quota('compute', member.project.id)).toMatchObject({
      instances: 10,
      cores: 50,
      ram: 65536,
    });
    expect(world.recorder.quota('network', member.project.id)).toMatchObject({ port: 50, router: 3 });
  });

  it('leaves for the admins a request two sizes up, or for a project changed within 30 days or never seen', async () => {
    const twoUp = await requestCard(withPolicy, await smallProject(withPolicy, 40), 'large');
    const recent = await requestCard(withPolicy, await smallProject(withPolicy, 3), 'medium');
    const unknown = await requestCard(withPolicy, await smallProject(withPolicy, undefined), '', '20');
    for (const card of [twoUp, recent, unknown]) {
      expect(buttonsOf(card).map((button) => button.text)).toEqual(['Approve', 'Adjust', 'Reject']);
      expect(textOf(card)).not.toContain('by policy');
    }
  });

  it('is off by default: the same request waits for an admin', async () => {
    const plain = await world.start();
    const member = await smallProject(plain, 60);
    const card = await requestCard(plain, member, 'medium');
    expect(buttonsOf(card).map((button) => button.text)).toEqual(['Approve', 'Adjust', 'Reject']);
    expect(world.recorder.quota('compute', member.project.id)).toMatchObject({ instances: 10 });
  });
});
