import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_ADMIN_CHANNEL, type TestBot } from '../support/bot.js';
import {
  ADMIN_1,
  ADMIN_2,
  ADMITTED_TAB,
  buttonsOf,
  cardOf,
  click,
  type Harness,
  isApproved,
  OUTSIDER,
  poll,
  recordOf,
  setApplications,
  startHarness,
  textOf,
  uniqueApplicant,
  waitForCard,
} from './harness.js';

let world: Harness;
let bot: TestBot;

beforeAll(async () => {
  world = await startHarness('approve');
  bot = await world.start();
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  world.smtp.reset();
});

describe('approving an applicant from the card', () => {
  it('a sheet row becomes a card; Approve makes the project, user, role and quotas, emails a link, and writes the admitted row', async () => {
    const ann = uniqueApplicant('ann');
    world.sheets.setTab(ADMITTED_TAB, []);
    setApplications(world.sheets, [ann.cells]);
    expect(await poll(bot)).toMatchObject({ new: 1, invalid: 0 });

    const card = cardOf(world.slack, ann.email);
    expect(card.text).toContain('New applicant');
    expect(buttonsOf(card).map((button) => button.text)).toEqual(['Approve', 'Quota', 'Reject']);
    const id = buttonsOf(card)[0]?.value ?? '';
    expect((await recordOf(bot, id))?.card).toEqual({ channel: TEST_ADMIN_CHANNEL, ts: card.ts });

    const reply = await click(bot, card, ADMIN_1, 'applicant_approve');
    expect(reply.status).toBe(200);

    const done = await waitForCard(world.slack, ann.email, isApproved);
    expect(textOf(done)).toContain(`Approved by <@${ADMIN_1}> at <!date^`);
    expect(done.text).toContain('was approved');

    const project = await world.keystone.findProjectByName(ann.project, 'default');
    const user = await world.keystone.findUserByName(ann.email, 'default');
    expect(project).toBeDefined();
    expect(user).toMatchObject({ name: ann.email, email: ann.email });
    const assignments = await world.keystone.listRoleAssignments({
      userId: user?.id,
      projectId: project?.id,
    });
    expect(assignments.map((a) => a.roleName)).toContain('member');

    const puts = world.recorder.calls.filter(
      (call) => call.method === 'PUT' && call.projectId === project?.id,
    );
    expect(puts.map((call) => call.service).sort()).toEqual(['compute', 'network', 'volumev3']);

    const [mail] = await world.smtp.waitForMessages(1);
    expect(mail?.to).toEqual([ann.email]);
    expect(mail?.text).toMatch(/https:\/\/register\.kaizen\.test\/\?token=[\w-]{43}/);

    const record = await recordOf(bot, id);
    expect(record?.state === 'provisioned' || record?.state === 'notified').toBe(true);
    expect(record?.checkpoints).toMatchObject({ project: project?.id, user: user?.id });
    expect(textOf(done)).toContain(`project id \`${project?.id}\``);

    const admitted = world.sheets.tab(ADMITTED_TAB) ?? [];
    expect(admitted[0]?.slice(-4)).toEqual([
      'Approved at',
      'Approved by',
      'Keystone project id',
      'Keystone user id',
    ]);
    const line = admitted.find((cells) => cells.includes(ann.email));
    expect(line?.slice(0, 9)).toEqual(ann.cells.slice(0, 9));
    expect(line?.slice(-3)).toEqual([ADMIN_1, project?.id, user?.id]);
    expect(Number.isNaN(Date.parse(line?.at(-4) ?? ''))).toBe(false);
    expect(line?.[9]).toBe('');
  });

  it('cells that look like formulas are data: shown on the card as typed, written back RAW', async () => {
    const formula = '=HYPERLINK("https://evil.example","x")';
    const dee = uniqueApplicant('dee', { organization: '@Lab', sponsor: formula, phone: '-1' });
    world.sheets.setTab(ADMITTED_TAB, []);
    setApplications(world.sheets, [dee.cells]);
    expect(await poll(bot)).toMatchObject({ new: 1, invalid: 0 });

    const card = cardOf(world.slack, dee.email);
    const shown = JSON.parse(textOf(card)) as { fields?: { text: string }[] }[];
    const fields = shown.flatMap((block) => block.fields ?? []).map((field) => field.text);
    expect(fields).toEqual(expect.arrayContaining(['*Organization*\n@Lab', `*Sponsor*\n${formula}`]));
    await click(bot, card, ADMIN_1, 'applicant_approve');
    await waitForCard(world.slack, dee.email, isApproved);

    const line = (world.sheets.tab(ADMITTED_TAB) ?? []).find((cells) => cells.includes(dee.email));
    expect(line).toEqual(expect.arrayContaining(['@Lab', formula, '-1']));
    const writes = world.sheets.calls.filter((call) =>
      ['values.append', 'values.update', 'values.batchUpdate'].includes(call.operation),
    );
    expect(
      writes.some((call) => call.operation === 'values.append' && call.range?.includes(ADMITTED_TAB)),
    ).toBe(true);
    for (const call of writes) expect(call.valueInputOption, `${call.operation} ${call.range}`).toBe('RAW');
  });

  it('20 concurrent clicks from two admins provision once; the others hear who is approving', async () => {
    const bob = uniqueApplicant('bob');
    setApplications(world.sheets, [bob.cells]);
    await poll(bot);
    const card = structuredClone(cardOf(world.slack, bob.email));
    const before = world.slack.ephemerals().length;

    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        click(bot, card, i % 2 === 0 ? ADMIN_1 : ADMIN_2, 'applicant_approve'),
      ),
    );
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    const done = await waitForCard(world.slack, bob.email, isApproved);
    const winner = textOf(done).match(/Approved by <@(U0ADMIN[12])>/)?.[1];
    expect(winner).toBeDefined();

    const told = world.slack.ephemerals().slice(before);
    expect(told).toHaveLength(19);
    for (const message of told)
      expect(message.text).toBe(`This applicant is already being approved by <@${winner}>.`);

    // Keystone refuses a second project or user of the same name, so one of each exists; it is the
    // one the single run recorded, and the user holds one role assignment on it.
    const project = await world.keystone.findProjectByName(bob.project, 'default');
    const user = await world.keystone.findUserByName(bob.email, 'default');
    const record = await recordOf(bot, buttonsOf(card)[0]?.value ?? '');
    expect(record?.checkpoints).toMatchObject({ project: project?.id, user: user?.id });
    expect(
      await world.keystone.listRoleAssignments({ userId: user?.id, projectId: project?.id }),
    ).toHaveLength(1);
    const audit = await bot.bot.services.audit.read({ subject: record?.id ?? '', limit: 100 });
    expect(audit.filter((entry) => entry.action === 'provision.project')).toHaveLength(1);
    await world.smtp.waitForMessages(1);
    expect(world.smtp.messages.filter((mail) => mail.to.includes(bob.email))).toHaveLength(1);
    const admitted = (world.sheets.tab(ADMITTED_TAB) ?? []).filter((cells) => cells.includes(bob.email));
    expect(admitted).toHaveLength(1);
  });

  it('someone who is not an admin changes nothing', async () => {
    const cid = uniqueApplicant('cid');
    setApplications(world.sheets, [cid.cells]);
    await poll(bot);
    const card = cardOf(world.slack, cid.email);
    const id = buttonsOf(card)[0]?.value ?? '';
    const updatesBefore = world.slack.calls('chat.update').length;
    const opensBefore = world.slack.calls('views.open').length;

    for (const action of ['applicant_approve', 'applicant_quota', 'applicant_reject']) {
      expect((await click(bot, card, OUTSIDER, action)).status).toBe(200);
    }
    const told = world.slack.ephemerals(OUTSIDER);
    expect(told.map((message) => message.text)).toEqual(
      Array(3).fill(`You're not allowed to do that; ask an admin of <#${TEST_ADMIN_CHANNEL}>.`),
    );
    expect(world.slack.calls('chat.update')).toHaveLength(updatesBefore);
    // No modal opened for the outsider: Quota and Reject stop before views.open.
    expect(world.slack.calls('views.open')).toHaveLength(opensBefore);
    expect(world.slack.message(card.channel, card.ts)?.updates).toBe(0);
    expect((await recordOf(bot, id))?.state).toBe('pending');
    expect(await world.keystone.findProjectByName(cid.project, 'default')).toBeUndefined();
  });

  it('a click on a card already decided tells the clicker and redraws the card', async () => {
    const dee = uniqueApplicant('dee');
    setApplications(world.sheets, [dee.cells]);
    await poll(bot);
    // The fake keeps one object per message and edits it in place: keep the card as first posted.
    const pending = structuredClone(cardOf(world.slack, dee.email));
    await click(bot, pending, ADMIN_1, 'applicant_approve');
    await waitForCard(world.slack, dee.email, isApproved);

    // A second admin still sees the old card (with buttons) and clicks Reject on it.
    await click(bot, pending, ADMIN_2, 'applicant_reject');
    expect(world.slack.ephemerals(ADMIN_2).at(-1)?.text).toBe(
      `This applicant was already approved by <@${ADMIN_1}>; the card now shows it.`,
    );
    expect(isApproved(cardOf(world.slack, dee.email))).toBe(true);
  });
});
