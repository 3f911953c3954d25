/**
 * The bot in Socket Mode (SLACK_APP_TOKEN set): it asks the Slack fake's `apps.connections.open`
 * for a WebSocket URL, connects to the Socket Mode fake, and answers envelopes there — a
 * /kaizen command in its ack, a click on an applicant card acked and acted on — with nothing
 * served on the HTTP events endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_1,
  applicantWithCard,
  buttonsOf,
  type Harness,
  isApproved,
  startHarness,
  waitForCard,
} from '../approval/harness.js';
import type { TestBot } from '../support/bot.js';
import { blockActionPayload, slashCommandBody } from '../support/slack-sign.js';
import { type SocketModeFake, startSocketModeFake } from '../support/socket-mode-fake.js';

const APP_TOKEN = 'xapp-1-A0KAIZEN-1-socketmodetest';
/** Bolt connects (apps.connections.open, the WebSocket, hello) before the bot's start resolves. */
const CONNECT_MS = 10_000;

describe('Socket Mode', () => {
  let world: Harness;
  let socket: SocketModeFake;
  let bot: TestBot;

  beforeAll(async () => {
    world = await startHarness('socket');
    socket = await startSocketModeFake(world.slack.appId);
    world.slack.enableSocketMode(() => socket.url);
    bot = await world.start(undefined, { SLACK_APP_TOKEN: APP_TOKEN });
    await socket.waitForConnection(CONNECT_MS);
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await socket?.close();
  });

  it('connects with the app-level token, and the HTTP events endpoint is not served', async () => {
    expect(bot.bot.services.config.slack.appToken).toBe(APP_TOKEN);
    const opened = world.slack.calls('apps.connections.open');
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened.every((call) => call.token === APP_TOKEN && call.error === undefined)).toBe(true);
    expect(socket.connected).toBe(1);
    const http = await fetch(bot.eventsUrl, { method: 'POST', body: 'command=%2Fkaizen&text=help' });
    expect(http.status).toBe(404);
    await http.body?.cancel();
  });

  it('acks a /kaizen help envelope with the help text as its payload', async () => {
    const payload = Object.fromEntries(
      new URLSearchParams(slashCommandBody({ text: 'help', user_id: ADMIN_1 })),
    );
    const ack = await socket.deliver('slash_commands', payload);
    const reply = ack.payload as { response_type?: string; text?: string } | undefined;
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toContain('/kaizen pending');
    expect(socket.unexpected).toEqual([]);
  });

  it('acks a click on Approve from an applicant card and approves the applicant', async () => {
    const who = await applicantWithCard(world, bot, 'socket');
    const approve = buttonsOf(who.card).find((button) => button.action_id === 'applicant_approve');
    expect(approve).toBeDefined();
    const ack = await socket.deliver(
      'interactive',
      blockActionPayload({
        user: ADMIN_1,
        actionId: 'applicant_approve',
        value: approve!.value,
        message: { channel: who.card.channel, ts: who.card.ts, blocks: who.card.blocks ?? [] },
      }),
    );
    expect(ack.envelope_id).toBeTruthy();
    const card = await waitForCard(world.slack, who.email, isApproved);
    expect(JSON.stringify(card.blocks)).toContain(`Approved by <@${ADMIN_1}>`);
    const user = await world.keystone.findUserByName(who.email, 'default');
    expect(user?.name).toBe(who.email);
  }, 60_000);
});
