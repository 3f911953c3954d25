/**
 * Clicks from where Slack really sends them besides the card: the App Home tab (a `view`
 * container, no channel, no message), and a click whose modal opens too late for its trigger id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_CHANNEL, TEST_SIGNING_SECRET, type TestBot } from '../support/bot.js';
import { blockActionPayload, payloadBody, sendSigned } from '../support/slack-sign.js';
import {
  ADMIN_1,
  ADMIN_2,
  applicantWithCard,
  click,
  footprint,
  type Harness,
  isApproved,
  ONE_OF_EVERYTHING,
  startHarness,
  textOf,
  waitForCard,
} from './harness.js';

let world: Harness;
let bot: TestBot;

beforeAll(async () => {
  world = await startHarness('surfaces');
  bot = await world.start();
});
afterAll(async () => {
  await world?.close();
});

describe('clicks from other surfaces', () => {
  it('Approve clicked on the App Home tab approves, and redraws the card in the admin channel', async () => {
    const eve = await applicantWithCard(world, bot, 'home-eve');
    // What Slack sends for a button on a Home tab: the view as container, no channel or message.
    const payload = {
      ...blockActionPayload({
        user: ADMIN_1,
        actionId: 'applicant_approve',
        value: eve.id,
        blockId: `home_pending:${eve.id}`,
      }),
      container: { type: 'view', view_id: 'V0HOMEVIEW' },
      view: { id: 'V0HOMEVIEW', type: 'home', blocks: [], private_metadata: '', callback_id: '' },
    };
    const reply = await sendSigned(
      bot.eventsUrl,
      TEST_SIGNING_SECRET,
      payloadBody(payload),
      'application/x-www-form-urlencoded',
    );
    expect(reply.status).toBe(200);
    const done = await waitForCard(world.slack, eve.email, isApproved);
    expect(done.channel).toBe(TEST_ADMIN_CHANNEL);
    expect(textOf(done)).toContain(`Approved by <@${ADMIN_1}>`);
    expect(await footprint(world, eve)).toEqual(ONE_OF_EVERYTHING);
  });

  it('a modal that opens after its trigger id expired is refused, and the clicker is told to click again', async () => {
    const fay = await applicantWithCard(world, bot, 'late-fay');
    // The bot answers at once; only the lifetime is made short enough for its views.open to miss it.
    world.slack.setTriggerIdLifetime(0);
    try {
      await click(bot, fay.card, ADMIN_2, 'applicant_reject');
      await world.slack.waitFor(
        () => world.slack.ephemerals(ADMIN_2).length > 0,
        5_000,
        'a word to the clicker',
      );
    } finally {
      world.slack.setTriggerIdLifetime(3_000);
    }
    expect(world.slack.calls('views.open').at(-1)?.error).toBe('expired_trigger_id');
    expect(world.slack.ephemerals(ADMIN_2).at(-1)?.text).toBe(
      'Slack did not open the form in time; please click again.',
    );
    // Clicked again in time, the modal opens.
    await click(bot, fay.card, ADMIN_2, 'applicant_reject');
    await world.slack.waitFor(
      (calls) => calls.some((call) => call.method === 'views.open' && call.error === undefined),
      5_000,
      'the reject modal',
    );
  });
});
