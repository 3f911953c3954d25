import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from '../support/bot.js';
import { freePort } from '../support/local-http.js';
import {
  ADMIN_1,
  ADMIN_2,
  buttonsOf,
  cardOf,
  click,
  type Harness,
  poll,
  recordOf,
  setApplications,
  startHarness,
  textOf,
  uniqueApplicant,
  waitForCard,
} from './harness.js';

let world: Harness;

beforeAll(async () => {
  world = await startHarness('retry');
});
afterAll(async () => {
  await world?.close();
});

describe('a failed step and its retry', () => {
  it('with Keystone unreachable the card shows the step, the reason and Retry; Retry after the fix completes', async () => {
    const prefix = uniquePrefix('retry');
    // Keystone "down" on a port nothing listens on, without touching the shared one.
    const down = await world.start(prefix, { OS_AUTH_URL: `http://127.0.0.1:${await freePort()}/v3` });
    const max = uniqueApplicant('max');
    setApplications(world.sheets, [max.cells]);
    await poll(down);
    const card = cardOf(world.slack, max.email);
    const id = buttonsOf(card)[0]?.value ?? '';

    await click(down, card, ADMIN_1, 'applicant_approve');
    const failed = await waitForCard(world.slack, max.email, (c) =>
      buttonsOf(c).some((b) => b.text === 'Retry'),
    );
    expect(buttonsOf(failed)).toEqual([{ action_id: 'applicant_retry', value: id, text: 'Retry' }]);
    expect(textOf(failed)).toMatch(
      /stopped at the \*project\* step: Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 /,
    );
    expect(textOf(failed)).not.toMatch(/ECONNREFUSED|at [A-Za-z]+ \(|node:internal/);
    const record = await recordOf(down, id);
    expect(record).toMatchObject({ state: 'failed', failure: { step: 'project' } });
    expect(await world.keystone.findProjectByName(max.project, 'default')).toBeUndefined();
    await down.stop();

    // Keystone is back: the bot runs with the right URL on the same Redis.
    const up = await world.start(prefix);
    await click(up, failed, ADMIN_2, 'applicant_retry');
    const done = await waitForCard(
      world.slack,
      max.email,
      (c) => textOf(c).includes('Approved by') && buttonsOf(c).length === 0,
    );
    expect(textOf(done)).toContain(`Approved by <@${ADMIN_2}>`);
    expect(await world.keystone.findProjectByName(max.project, 'default')).toBeDefined();
    expect(await world.keystone.findUserByName(max.email, 'default')).toBeDefined();
    const mails = await world.smtp.waitForMessages(1);
    expect(mails.filter((mail) => mail.to.includes(max.email))).toHaveLength(1);
  });
});
