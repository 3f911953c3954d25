import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HEADER } from '../domain/intake/fixtures.js';
import { TEST_SIGNING_SECRET, type TestBot } from '../support/bot.js';
import { sendSlashCommand, sendViewSubmission } from '../support/slack-sign.js';
import {
  ADMIN_1,
  ADMIN_2,
  APPLICATIONS_TAB,
  applicantWithCard,
  buttonsOf,
  cardOf,
  click,
  type Harness,
  OUTSIDER,
  recordOf,
  setApplications,
  startHarness,
  textOf,
  uniqueApplicant,
} from './harness.js';

let world: Harness;
let bot: TestBot;

beforeAll(async () => {
  world = await startHarness('decide');
  bot = await world.start();
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  world.smtp.reset();
});

function submit(
  user: string,
  callbackId: string,
  privateMetadata: string,
  values: Parameters<typeof sendViewSubmission>[2]['values'],
) {
  return sendViewSubmission(bot.eventsUrl, TEST_SIGNING_SECRET, {
    user,
    callbackId,
    privateMetadata,
    values,
  });
}

describe('rejecting', () => {
  it('Reject opens the modal; a reason is required; the card then says who and why, the email goes out, the sheet says Rejected', async () => {
    const eve = await applicantWithCard(world, bot, 'eve');
    await click(bot, eve.card, ADMIN_1, 'applicant_reject');
    const modal = world.slack.view();
    expect(modal?.view).toMatchObject({ callback_id: 'applicant_reject_modal', private_metadata: eve.id });

    const empty = await submit(ADMIN_1, 'applicant_reject_modal', eve.id, {
      reject_reason: { reason: '   ' },
    });
    expect(empty.json).toEqual({
      response_action: 'errors',
      errors: { reject_reason: 'Give a reason: it is shown on the card, and emailed when you tick the box.' },
    });
    expect((await recordOf(bot, eve.id))?.state).toBe('pending');

    const done = await submit(ADMIN_1, 'applicant_reject_modal', eve.id, {
      reject_reason: { reason: 'Please apply through your sponsor <!channel>' },
      reject_notify: { notify: { type: 'checkboxes', selected_options: [{ value: 'email' }] } },
    });
    expect(done.status).toBe(200);
    expect(done.text).toBe('');

    const card = cardOf(world.slack, eve.email);
    expect(buttonsOf(card)).toEqual([]);
    expect(textOf(card)).toContain(`:no_entry_sign: Rejected by <@${ADMIN_1}> at <!date^`);
    expect(textOf(card)).toContain(': Please apply through your sponsor &lt;!channel&gt;');
    expect((await recordOf(bot, eve.id))?.state).toBe('rejected');

    const [mail] = await world.smtp.waitForMessages(1);
    expect(mail?.to).toEqual([eve.email]);
    expect(mail?.text).toContain('Please apply through your sponsor');

    const tab = world.sheets.tab(APPLICATIONS_TAB) ?? [];
    const statusColumn = tab[0]?.indexOf('Status') ?? -1;
    expect(statusColumn).toBe(HEADER.length);
    expect(tab.find((cells) => cells.includes(eve.email))?.[statusColumn]).toBe('Rejected');
  });

  it('without the box ticked no email goes out', async () => {
    const fay = await applicantWithCard(world, bot, 'fay');
    await click(bot, fay.card, ADMIN_2, 'applicant_reject');
    await submit(ADMIN_2, 'applicant_reject_modal', fay.id, {
      reject_reason: { reason: 'Duplicate request' },
    });
    expect(textOf(cardOf(world.slack, fay.email))).toContain(`Rejected by <@${ADMIN_2}>`);
    expect((await recordOf(bot, fay.id))?.state).toBe('rejected');
    expect(world.smtp.messages.filter((mail) => mail.to.includes(fay.email))).toEqual([]);
  });

  it('a forged submission from someone who is not an admin changes nothing', async () => {
    const gus = await applicantWithCard(world, bot, 'gus');
    const reply = await submit(OUTSIDER, 'applicant_reject_modal', gus.id, {
      reject_reason: { reason: 'no' },
    });
    expect(reply.json).toEqual({
      response_action: 'errors',
      errors: { reject_reason: "You're not allowed to do that; ask an admin of the admin channel." },
    });
    expect((await recordOf(bot, gus.id))?.state).toBe('pending');
    expect(world.slack.message(gus.card.channel, gus.card.ts)?.updates).toBe(0);
  });
});

describe('choosing a quota', () => {
  it('Quota opens the modal on the current choice; bad numbers are answered in the modal, field by field', async () => {
    const hal = await applicantWithCard(world, bot, 'hal');
    await click(bot, hal.card, ADMIN_1, 'applicant_quota');
    const modal = world.slack.view();
    expect(modal?.view).toMatchObject({ callback_id: 'applicant_quota_modal', private_metadata: hal.id });

    const bad = await submit(ADMIN_1, 'applicant_quota_modal', hal.id, {
      quota_preset: { preset: { type: 'static_select', selected_option: { value: 'small' } } },
      quota_instances: { value: { type: 'number_input', value: '1.5' } },
      quota_ram: { value: { type: 'number_input', value: 'lots' } },
      quota_port: { value: { type: 'number_input', value: '-2' } },
      quota_cores: { value: { type: 'number_input', value: '8' } },
    });
    expect(bad.json).toEqual({
      response_action: 'errors',
      errors: {
        quota_instances: 'Enter a whole number, or -1 for unlimited',
        quota_ram: 'Enter a whole number, or -1 for unlimited',
        quota_port: 'Enter a whole number, or -1 for unlimited',
      },
    });
    expect((await recordOf(bot, hal.id))?.quota).toEqual({ kind: 'preset', preset: 'small' });
    expect(world.slack.message(hal.card.channel, hal.card.ts)?.updates).toBe(0);
  });

  it('a preset alone is saved as the preset; overrides are laid over it, RAM given in GiB; the card shows the result', async () => {
    const ida = await applicantWithCard(world, bot, 'ida');
    const preset = await submit(ADMIN_1, 'applicant_quota_modal', ida.id, {
      quota_preset: { preset: { type: 'static_select', selected_option: { value: 'large' } } },
    });
    expect(preset.text).toBe('');
    expect((await recordOf(bot, ida.id))?.quota).toEqual({ kind: 'preset', preset: 'large' });
    expect(textOf(cardOf(world.slack, ida.email))).toContain(
      '*Quota:* large — 100 instances · 500 vCPUs · 768 GiB RAM · 2000 GB volumes · 10 floating IPs',
    );

    await submit(ADMIN_2, 'applicant_quota_modal', ida.id, {
      quota_preset: { preset: { type: 'static_select', selected_option: { value: 'medium' } } },
      quota_instances: { value: { type: 'number_input', value: '40' } },
      quota_ram: { value: { type: 'number_input', value: '128' } },
      quota_floatingip: { value: { type: 'number_input', value: '-1' } },
    });
    const record = await recordOf(bot, ida.id);
    expect(record?.quota).toMatchObject({
      kind: 'custom',
      values: { instances: 40, ram: 131072, floatingip: -1, cores: 200, port: 150 },
    });
    const card = cardOf(world.slack, ida.email);
    expect(textOf(card)).toContain(
      '*Quota:* custom — 40 instances · 200 vCPUs · 128 GiB RAM · 1000 GB volumes · unlimited floating IPs',
    );
    expect(buttonsOf(card).map((button) => button.text)).toEqual(['Approve', 'Quota', 'Reject']);

    // The modal opens on what was chosen.
    await click(bot, card, ADMIN_1, 'applicant_quota');
    const blocks = (world.slack.view()?.view.blocks ?? []) as {
      block_id?: string;
      element?: { initial_value?: string };
    }[];
    expect(blocks.find((block) => block.block_id === 'quota_ram')?.element?.initial_value).toBe('128');
  });

  it('a quota can no longer change once the applicant is decided', async () => {
    const jon = await applicantWithCard(world, bot, 'jon');
    await submit(ADMIN_1, 'applicant_reject_modal', jon.id, { reject_reason: { reason: 'No sponsor' } });
    const late = await submit(ADMIN_2, 'applicant_quota_modal', jon.id, {
      quota_preset: { preset: { type: 'static_select', selected_option: { value: 'large' } } },
    });
    expect(late.json).toEqual({
      response_action: 'errors',
      errors: { quota_preset: 'This applicant is rejected already; the quota can no longer change.' },
    });
    expect((await recordOf(bot, jon.id))?.quota).toEqual({ kind: 'preset', preset: 'small' });
  });
});

describe('/kaizen sync', () => {
  it('reads the sheet now and answers the counts', async () => {
    const kim = uniqueApplicant('kim');
    const bad = uniqueApplicant('lee', { pin: '12a4' });
    setApplications(world.sheets, [kim.cells, bad.cells]);
    const reply = await sendSlashCommand(bot.eventsUrl, TEST_SIGNING_SECRET, {
      text: 'sync',
      user_id: ADMIN_1,
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      response_type: 'ephemeral',
      text: 'Read the sheet: 1 new applicant and 1 invalid row found (2 rows in all).',
    });
    expect(cardOf(world.slack, kim.email)).toBeDefined();
    const notice = world.slack
      .messages(cardOf(world.slack, kim.email).channel)
      .find((message) => JSON.stringify(message.blocks ?? []).includes('PIN must be 4 digits'));
    expect(JSON.stringify(notice?.blocks)).toContain(`(${bad.email}): PIN must be 4 digits`);
  });
});
