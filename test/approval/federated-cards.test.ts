/**
 * The applicant card in federated mode, through signed Slack requests to the real bot: Approve
 * makes a federated user and says there is no password link; a local account with the applicant's
 * name stops the approval, and only an admin's click on the card turns it federated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystoneUniqueId } from '../../src/keystone/federation.js';
import { type RegisteredFederation, registerFederation } from '../keystone/federation-fixtures.js';
import { DOMAIN_ID, unique } from '../keystone/fixtures.js';
import type { TestBot } from '../support/bot.js';
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
let federation: RegisteredFederation;

beforeAll(async () => {
  [world, federation] = await Promise.all([startHarness('federated'), registerFederation()]);
  bot = await world.start(undefined, {
    KAIZEN_IDENTITY: 'federated',
    KAIZEN_IDP_ID: federation.idpId,
    KAIZEN_IDP_PROTOCOL: federation.protocol,
    LOGIN_URL: 'https://cloud.example.org/',
  });
});
afterAll(async () => {
  await world?.close();
  await federation?.remove();
});

describe('the card in federated mode', () => {
  it('Approve makes a federated user; the card says there is no password link', async () => {
    const ann = await applicantWithCard(world, bot, 'fedann');
    await click(bot, ann.card, ADMIN_1, 'applicant_approve');
    const done = await waitForCard(world.slack, ann.email, isApproved);
    expect(textOf(done)).toContain('password link: none, federated');
    const user = await world.keystone.findUser(ann.email, DOMAIN_ID);
    expect((await world.keystone.getUser(user!.id)).federated).toEqual([
      {
        idpId: federation.idpId,
        protocols: [{ protocolId: 'openid', uniqueId: keystoneUniqueId(ann.email) }],
      },
    ]);
    const mail = await world.slack.waitFor(
      () => world.smtp.messages.find((m) => m.to.includes(ann.email)),
      10_000,
      `the welcome email to ${ann.email}`,
    );
    expect(mail?.text).toContain('Sign in at https://cloud.example.org/');
    expect(mail?.text).not.toContain('token=');
  });

  it('a local account stops the approval; the admin makes it federated from the card', async () => {
    const lee = uniqueApplicant('fedlee');
    const local = await world.keystone.createUser({
      name: lee.email,
      email: lee.email,
      description: 'Lee, local',
      password: unique('Local!pass'),
      defaultProjectId: (
        await world.keystone.createProject({ name: unique('Lee Old'), description: '', domainId: DOMAIN_ID })
      ).id,
      domainId: DOMAIN_ID,
    });
    setApplications(world.sheets, [lee.cells]);
    expect(await poll(bot)).toMatchObject({ new: 1 });
    const card = structuredClone(cardOf(world.slack, lee.email));
    await click(bot, card, ADMIN_1, 'applicant_approve');

    const stopped = await waitForCard(world.slack, lee.email, (c) =>
      buttonsOf(c).some((b) => b.text === 'Make it federated'),
    );
    expect(buttonsOf(stopped).map((b) => b.text)).toEqual(['Make it federated', 'Keep it local', 'Reject']);
    expect(textOf(stopped)).toContain(
      `*${lee.email}* already exists as a local account that signs in with a password`,
    );
    expect((await world.keystone.getUser(local.id)).federated).toBeUndefined();

    // Only admins choose.
    expect((await click(bot, stopped, OUTSIDER, 'applicant_convert_account')).status).toBe(200);
    const id = buttonsOf(stopped)[0]!.value;
    expect((await recordOf(bot, id))?.state).toBe('failed');

    await click(bot, stopped, ADMIN_2, 'applicant_convert_account');
    const done = await waitForCard(world.slack, lee.email, isApproved);
    expect(textOf(done)).toContain('was made federated, as an admin chose');
    expect((await world.keystone.getUser(local.id)).federated).toEqual([
      {
        idpId: federation.idpId,
        protocols: [{ protocolId: 'openid', uniqueId: keystoneUniqueId(lee.email) }],
      },
    ]);
    const record = await recordOf(bot, id);
    expect(record?.localAccountChoice).toMatchObject({ choice: 'convert', by: ADMIN_2 });
  });
});
