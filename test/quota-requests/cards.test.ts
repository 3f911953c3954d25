import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { approveQuotaRequest, STALE_APPLYING_MS } from '../../src/domain/quotas/request-workflow.js';
import {
  ADMIN_1,
  ADMIN_2,
  APPLICATIONS_TAB,
  buttonsOf,
  click,
  type Harness,
  OUTSIDER,
  poll,
  startHarness,
  textOf,
} from '../approval/harness.js';
import { HEADER as APPLICATION_HEADER } from '../domain/intake/fixtures.js';
import { DOMAIN_ID, newMember, unique } from '../keystone/fixtures.js';
import { TEST_ADMIN_CHANNEL, TEST_SIGNING_SECRET, type TestBot } from '../support/bot.js';
import type { SlackStoredMessage } from '../support/slack-fake.js';
import { sendViewSubmission } from '../support/slack-sign.js';

const TAB = 'Quota Requests';
const HEADER = ['Timestamp', 'Email', 'Project', 'Preset', 'instances', 'cores', 'ram_gib', 'Justification'];

let world: Harness;
let bot: TestBot;

beforeAll(async () => {
  world = await startHarness('quotareq');
  bot = await world.start();
  world.sheets.setTab(APPLICATIONS_TAB, [APPLICATION_HEADER]);
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  world.smtp.reset();
});

/** A project in Keystone with a member, and a quota request row by that member (or by `email`). */
async function requestRow(cells: { preset?: string; instances?: string; email?: string } = {}) {
  const member = await newMember(world.keystone);
  const email = cells.email ?? member.user.name;
  const timestamp = `12/01/2026 10:00:00 ${randomBytes(3).toString('hex')}`;
  const row = [
    timestamp,
    email,
    member.project.name,
    cells.preset ?? '',
    cells.instances ?? '',
    '',
    '',
    'Bigger runs',
  ];
  return { member, email, project: member.project, row };
}

function setRequests(rows: string[][]): void {
  world.sheets.setTab(TAB, [HEADER, ...rows]);
}

function cardFor(project: string): SlackStoredMessage | undefined {
  return world.slack
    .messages(TEST_ADMIN_CHANNEL)
    .find((message) => JSON.stringify(message.blocks ?? []).includes(`Quota request: ${project}`));
}

function waitForCard(project: string, done: (card: SlackStoredMessage) => boolean) {
  return world.slack.waitFor(
    () => {
      const card = cardFor(project);
      return card !== undefined && done(card) ? card : undefined;
    },
    20_000,
    `the quota request card of ${project}`,
  );
}

const applied = (card: SlackStoredMessage) =>
  textOf(card).includes('Applied by') && buttonsOf(card).length === 0;
const puts = (projectId: string) =>
  world.recorder.calls.filter((call) => call.method === 'PUT' && call.projectId === projectId);

function submit(
  user: string,
  callbackId: string,
  id: string,
  values: Parameters<typeof sendViewSubmission>[2]['values'],
) {
  return sendViewSubmission(bot.eventsUrl, TEST_SIGNING_SECRET, {
    user,
    callbackId,
    privateMetadata: id,
    values,
  });
}

describe('a quota request row becomes a card', () => {
  it('shows current quota, usage and requested per key; Approve applies once, even clicked twice, emails, writes the status, audits', async () => {
    const ask = await requestRow({ preset: 'medium', instances: '40' });
    world.recorder.setUsage('compute', ask.project.id, { instances: 7, cores: 12 });
    setRequests([ask.row]);
    expect((await poll(bot)).quotaRequests).toEqual({ new: 1, invalid: 0 });

    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    const text = textOf(card);
    expect(text).toContain(`${ask.email} (member)`);
    expect(text).toContain('Bigger runs');
    // The recorder's nova defaults are the current quota: 10 instances, 20 cores, 50 GiB RAM.
    expect(text).toMatch(/Quota +Current +In use +Requested/);
    expect(text).toMatch(/Instances +10 +7 +40/);
    expect(text).toMatch(/vCPUs +20 +12 +200/);
    expect(text).toMatch(/RAM \(GiB\) +50 GiB +0 GiB +256 GiB/);
    expect(buttonsOf(card).map((button) => button.text)).toEqual(['Approve', 'Adjust', 'Reject']);

    const [first, second] = await Promise.all([
      click(bot, card, ADMIN_1, 'quota_request_approve'),
      click(bot, card, ADMIN_2, 'quota_request_approve'),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const done = await waitForCard(ask.project.name, applied);
    expect(textOf(done)).toMatch(/Applied by <@U0ADMIN[12]>/);
    // Once: one PUT per service, with the medium preset and the row's own instances.
    expect(puts(ask.project.id).map((call) => [call.service, call.body])).toEqual([
      ['compute', { quota_set: { instances: 40, cores: 200, ram: 262144 } }],
      ['volumev3', { quota_set: { gigabytes: 1000, volumes: 50, snapshots: 100 } }],
      ['network', { quota: { floatingip: 5, network: 10, subnet: 20, port: 150, router: 5 } }],
    ]);
    // After it, the card reads the new limits.
    expect(textOf(done)).toMatch(/Instances +40 +7 +40/);

    const [mail] = await world.smtp.waitForMessages(1);
    expect(mail?.to).toEqual([ask.email]);
    expect(mail?.subject).toBe(`Quota of ${ask.project.name} changed`);
    const tab = world.sheets.tab(TAB) ?? [];
    const status = tab[0]?.indexOf('Status') ?? -1;
    expect(tab.find((cells) => cells.includes(ask.email))?.[status]).toMatch(/^Applied \d{4}-\d{2}-\d{2}$/);
    const audit = await bot.bot.services.audit.read({ subject: ask.email });
    expect(audit.filter((entry) => entry.action === 'quota_approve').map((entry) => entry.outcome)).toEqual([
      'ok',
    ]);
    // The second click was told the request was taken or done.
    const told = world.slack.ephemerals().filter((one) => /already (being )?applied/.test(one.text ?? ''));
    expect(told).toHaveLength(1);
  });

  it("a non-member's request is marked, and Approve is refused with the reason", async () => {
    const outsider = await world.keystone.createUser({
      name: `${unique('outsider')}@example.org`,
      email: `${unique('outsider')}@example.org`,
      description: 'not a member',
      defaultProjectId: (await world.keystone.findProjectByName('admin', DOMAIN_ID))?.id ?? '',
      domainId: DOMAIN_ID,
    });
    const ask = await requestRow({ preset: 'small', email: outsider.name });
    setRequests([ask.row]);
    await poll(bot);
    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    expect(textOf(card)).toContain(':warning: not a member');
    expect(textOf(card)).toContain(`is not a member of ${ask.project.name} in Keystone: only a member`);

    await click(bot, card, ADMIN_1, 'quota_request_approve');
    const reply = await world.slack.waitFor(
      () => world.slack.ephemerals(ADMIN_1).find((one) => (one.text ?? '').startsWith('Not applied:')),
      10_000,
      'the refusal',
    );
    expect(reply.text).toContain(`${outsider.name} is not a member of ${ask.project.name}`);
    expect(puts(ask.project.id)).toEqual([]);
    const audit = await bot.bot.services.audit.read({ subject: outsider.name });
    expect(audit[0]).toMatchObject({ action: 'quota_approve', outcome: 'denied' });
  });

  it('a failed step stops the approval; Retry resumes after the steps done, setting the quotas once', async () => {
    const ask = await requestRow({ instances: '25' });
    setRequests([ask.row]);
    await poll(bot);
    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    // The sheet refuses the status write once: quotas are set and the email queued before it.
    world.sheets.failNext('values.batchUpdate', { status: 403 });
    await click(bot, card, ADMIN_1, 'quota_request_approve');
    const failed = await waitForCard(ask.project.name, (one) => textOf(one).includes('stopped while'));
    expect(textOf(failed)).toContain('stopped while writing the status to the sheet');
    expect(buttonsOf(failed).map((button) => button.text)).toEqual(['Retry']);
    expect(puts(ask.project.id)).toHaveLength(1);

    await click(bot, failed, ADMIN_2, 'quota_request_retry');
    const done = await waitForCard(ask.project.name, applied);
    expect(textOf(done)).toContain(`Applied by <@${ADMIN_2}>`);
    expect(puts(ask.project.id)).toHaveLength(1);
    await world.smtp.waitForMessages(1);
    expect(world.smtp.messages.filter((mail) => mail.to.includes(ask.email))).toHaveLength(1);
  });

  it('Retry after the quotas were set finishes the steps even if the requester left the project since', async () => {
    const ask = await requestRow({ instances: '16' });
    setRequests([ask.row]);
    await poll(bot);
    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    world.sheets.failNext('values.batchUpdate', { status: 403 });
    await click(bot, card, ADMIN_1, 'quota_request_approve');
    const failed = await waitForCard(ask.project.name, (one) => textOf(one).includes('stopped while'));
    // The member's role on the project is taken away in Keystone.
    const { member } = ask;
    const response = await fetch(
      `${inject('keystone').authUrl.replace(/\/+$/, '')}/projects/${member.project.id}/users/${member.user.id}/roles/${member.role.id}`,
      {
        method: 'DELETE',
        headers: { 'X-Auth-Token': await world.keystone.getAdminToken(), Connection: 'close' },
      },
    );
    expect(response.status).toBe(204);
    await click(bot, failed, ADMIN_1, 'quota_request_retry');
    await waitForCard(ask.project.name, applied);
    expect(puts(ask.project.id)).toHaveLength(1);
  });

  it('a failed quota update leaves nothing applied; Retry sets them', async () => {
    const ask = await requestRow({ instances: '12' });
    setRequests([ask.row]);
    await poll(bot);
    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    // Only the update fails: the card's reading of the quota still answers.
    world.recorder.failNext('compute', 503, 1, 'PUT');
    await click(bot, card, ADMIN_1, 'quota_request_approve');
    const failed = await waitForCard(ask.project.name, (one) => textOf(one).includes('stopped while'));
    expect(textOf(failed)).toContain('stopped while setting the quotas: The compute (nova) service at');
    expect(buttonsOf(failed).map((button) => button.text)).toEqual(['Retry', 'Adjust', 'Reject']);
    await click(bot, failed, ADMIN_1, 'quota_request_retry');
    await waitForCard(ask.project.name, applied);
    expect(world.recorder.quota('compute', ask.project.id).instances).toBe(12);
  });

  it('a request left applying by a process that died is busy for a while, then Retry takes it over', async () => {
    const ask = await requestRow({ instances: '14' });
    setRequests([ask.row]);
    await poll(bot);
    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    const id = buttonsOf(card)[0]?.value ?? '';
    const parts = bot.bot.services.quotaRequests;
    if (parts === undefined) throw new Error('no quota requests on the bot');
    // The crash: the request moved to applying, and nothing after it ran.
    expect((await parts.deps.store.transition(id, ['pending'], 'applying', { decidedBy: ADMIN_1 })).ok).toBe(
      true,
    );
    await click(bot, card, ADMIN_2, 'quota_request_approve');
    await world.slack.waitFor(
      () =>
        world.slack
          .ephemerals(ADMIN_2)
          .find((one) => (one.text ?? '').includes(`already being applied by <@${ADMIN_1}>`)),
      10_000,
      'the busy reply',
    );
    expect(puts(ask.project.id)).toEqual([]);
    const later = new Date(Date.now() + STALE_APPLYING_MS + 1000);
    const outcome = await approveQuotaRequest({ ...parts.deps, now: () => later }, id, ADMIN_2);
    expect(outcome).toMatchObject({ kind: 'applied', record: { state: 'applied', decidedBy: ADMIN_2 } });
    expect(puts(ask.project.id)).toHaveLength(1);
  });

  it('Adjust opens the quota modal pre-filled; what is saved is what Approve applies', async () => {
    const ask = await requestRow({ instances: '30' });
    setRequests([ask.row]);
    await poll(bot);
    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    await click(bot, card, ADMIN_1, 'quota_request_adjust');
    const modal = world.slack.view();
    const id = buttonsOf(card)[0]?.value ?? '';
    expect(modal?.view).toMatchObject({ callback_id: 'quota_request_adjust_modal', private_metadata: id });
    expect(JSON.stringify(modal?.view)).toContain('"initial_value":"30"');

    const bad = await submit(ADMIN_1, 'quota_request_adjust_modal', id, { quota_instances: { value: '-5' } });
    expect(bad.json).toEqual({
      response_action: 'errors',
      errors: { quota_instances: 'Enter a whole number, or -1 for unlimited' },
    });
    const saved = await submit(ADMIN_1, 'quota_request_adjust_modal', id, {
      quota_instances: { value: '20' },
      quota_ram: { value: '64' },
    });
    expect(saved.status).toBe(200);
    const adjusted = await waitForCard(ask.project.name, (one) =>
      textOf(one).includes(`Adjusted by <@${ADMIN_1}>`),
    );
    expect(textOf(adjusted)).toMatch(/Instances +10 +0 +20/);
    await click(bot, adjusted, ADMIN_2, 'quota_request_approve');
    await waitForCard(ask.project.name, applied);
    expect(puts(ask.project.id).map((call) => call.body)).toEqual([
      { quota_set: { instances: 20, ram: 65536 } },
    ]);
  });

  it('Reject asks a reason, emails it when asked, and writes the status', async () => {
    const ask = await requestRow({ preset: 'large' });
    setRequests([ask.row]);
    await poll(bot);
    // A copy: the fake's stored message changes with each update.
    const card = structuredClone(cardFor(ask.project.name));
    if (card === undefined) throw new Error('no card');
    const id = buttonsOf(card)[0]?.value ?? '';
    await click(bot, card, ADMIN_1, 'quota_request_reject');
    expect(world.slack.view()?.view).toMatchObject({
      callback_id: 'quota_request_reject_modal',
      private_metadata: id,
    });
    const empty = await submit(ADMIN_1, 'quota_request_reject_modal', id, { reject_reason: { reason: ' ' } });
    expect(empty.json).toMatchObject({ response_action: 'errors' });
    await submit(ADMIN_1, 'quota_request_reject_modal', id, {
      reject_reason: { reason: 'Large is for funded projects' },
      reject_notify: { notify: { type: 'checkboxes', selected_options: [{ value: 'email' }] } },
    });
    const rejected = await waitForCard(ask.project.name, (one) => textOf(one).includes('Rejected by'));
    expect(textOf(rejected)).toContain(`:x: Rejected by <@${ADMIN_1}>`);
    expect(textOf(rejected)).toContain('Large is for funded projects');
    expect(buttonsOf(rejected)).toEqual([]);
    const [mail] = await world.smtp.waitForMessages(1);
    expect(mail?.to).toEqual([ask.email]);
    expect(mail?.text).toContain('Large is for funded projects');
    const tab = world.sheets.tab(TAB) ?? [];
    const status = tab[0]?.indexOf('Status') ?? -1;
    expect(tab.find((cells) => cells.includes(ask.email))?.[status]).toMatch(
      /^Rejected .*: Large is for funded projects$/,
    );
    expect(puts(ask.project.id)).toEqual([]);
    // Approve clicked on a stale copy of the card after Reject changes nothing.
    await click(bot, card, ADMIN_2, 'quota_request_approve');
    await world.slack.waitFor(
      () => world.slack.ephemerals(ADMIN_2).find((one) => (one.text ?? '').includes('rejected already')),
      10_000,
      'the reply',
    );
    expect(puts(ask.project.id)).toEqual([]);
  });

  it('a poll reads each tab once; a bad row gets one notice in the admin channel', async () => {
    setRequests([['12/03/2026 08:00:00', 'not-an-email', 'atlas', 'small', '', '', '', '']]);
    const reads = () =>
      world.sheets.calls.filter(
        (call) => call.operation === 'values.get' || call.operation === 'values.batchGet',
      ).length;
    const before = reads();
    expect((await poll(bot)).quotaRequests).toEqual({ new: 0, invalid: 1 });
    expect(reads() - before).toBe(2);
    await poll(bot);
    const notices = world.slack
      .messages(TEST_ADMIN_CHANNEL)
      .filter((message) => (message.text ?? '').includes('of the quota requests tab need fixing'));
    expect(notices).toHaveLength(1);
    expect(textOf(notices[0]!)).toContain('row 2 (not-an-email): Email is not a valid email address');
  });

  it('someone who is not an admin cannot approve', async () => {
    const ask = await requestRow({ instances: '11' });
    setRequests([ask.row]);
    await poll(bot);
    const card = cardFor(ask.project.name);
    if (card === undefined) throw new Error('no card');
    await click(bot, card, OUTSIDER, 'quota_request_approve');
    await world.slack.waitFor(
      () => world.slack.ephemerals(OUTSIDER).find((one) => (one.text ?? '').includes('not allowed')),
      10_000,
      'the refusal',
    );
    expect(puts(ask.project.id)).toEqual([]);
    const id = buttonsOf(card)[0]?.value ?? '';
    expect((await bot.bot.services.quotaRequests?.deps.store.get(id))?.state).toBe('pending');
  });
});
