/**
 * A new project named like an existing one, from the sheet to the card: the card is marked at
 * intake, Approve stops before any grant and offers Join existing X or Rename; Join is named on
 * the button, taken only from an admin, and audited; Rename is checked again in its modal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN_ID } from '../keystone/fixtures.js';
import { TEST_SIGNING_SECRET, type TestBot } from '../support/bot.js';
import { sendViewSubmission } from '../support/slack-sign.js';
import {
  ADMIN_1,
  ADMIN_2,
  applicantWithCard,
  buttonsOf,
  cardOf,
  click,
  type Harness,
  isApproved,
  OUTSIDER,
  recordOf,
  startHarness,
  textOf,
  waitForCard,
} from './harness.js';

let world: Harness;
let bot: TestBot;

beforeAll(async () => {
  world = await startHarness('names');
  bot = await world.start();
});
afterAll(async () => {
  await world?.close();
});

const stoppedAtName = (card: Parameters<typeof buttonsOf>[0]) =>
  buttonsOf(card).some((b) => b.text === 'Rename');

describe('a new project whose name is taken', () => {
  it('is marked at intake; Approve stops before any grant; Join existing X, from an admin, grants that project and is audited', async () => {
    const taken = `Names-${Date.now().toString(36)}`;
    const theirs = await world.keystone.createProject({
      name: taken,
      description: 'theirs',
      domainId: DOMAIN_ID,
    });
    const ann = await applicantWithCard(world, bot, 'ann', { newProjectName: taken.toUpperCase() });
    expect(textOf(ann.card)).toContain(`a project named *${taken}* already exists`);
    expect(buttonsOf(ann.card).map((b) => b.text)).toEqual(['Approve', 'Quota', 'Reject']);

    await click(bot, ann.card, ADMIN_1, 'applicant_approve');
    const stopped = await waitForCard(world.slack, ann.email, stoppedAtName);
    expect(buttonsOf(stopped).map((b) => b.text)).toEqual([`Join existing ${taken}`, 'Rename', 'Reject']);
    expect(await world.keystone.findUser(ann.email, DOMAIN_ID)).toBeUndefined();

    const refused = await click(bot, stopped, OUTSIDER, 'applicant_join');
    expect(refused.status).toBe(200);
    expect((await recordOf(bot, ann.id))?.state).toBe('failed');

    await click(bot, stopped, ADMIN_2, 'applicant_join');
    const done = await waitForCard(world.slack, ann.email, isApproved);
    expect(textOf(done)).toContain(`*Joins existing project:* ${taken}`);
    const record = await recordOf(bot, ann.id);
    expect(record?.checkpoints.project).toBe(theirs.id);
    expect(record?.joinProject?.by).toBe(ADMIN_2);
    const audit = await bot.bot.services.audit.read({ subject: ann.id });
    expect(audit.find((e) => e.action === 'project_join')).toMatchObject({ actor: ADMIN_2, outcome: 'ok' });
  });

  it('Rename is checked again in its modal; a free name makes a new project', async () => {
    const taken = `Names-${Date.now().toString(36)}-b`;
    await world.keystone.createProject({ name: taken, description: 'theirs', domainId: DOMAIN_ID });
    const bob = await applicantWithCard(world, bot, 'bob', { newProjectName: taken });
    await click(bot, bob.card, ADMIN_1, 'applicant_approve');
    const stopped = await waitForCard(world.slack, bob.email, stoppedAtName);

    await click(bot, stopped, ADMIN_1, 'applicant_rename');
    const modal = world.slack.view();
    expect(modal?.view).toMatchObject({ callback_id: 'applicant_rename_modal', private_metadata: bob.id });
    const submit = (name: string) =>
      sendViewSubmission(bot.eventsUrl, TEST_SIGNING_SECRET, {
        user: ADMIN_1,
        callbackId: 'applicant_rename_modal',
        privateMetadata: bob.id,
        values: { project_name: { name } },
      });
    expect((await submit(taken.toLowerCase())).json).toEqual({
      response_action: 'errors',
      errors: { project_name: `A project named ${taken} already exists too; choose another name.` },
    });
    expect((await submit('SERVICE')).json).toMatchObject({ response_action: 'errors' });

    const fresh = `${taken}-new`;
    expect((await submit(fresh)).status).toBe(200);
    await waitForCard(world.slack, bob.email, isApproved);
    const record = await recordOf(bot, bob.id);
    expect((await world.keystone.getProject(record!.checkpoints.project!)).name).toBe(fresh);
    expect(cardOf(world.slack, bob.email).blocks).toBeDefined();
  });
});
