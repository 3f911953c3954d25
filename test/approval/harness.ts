/**
 * The world an approval runs in, for the approval tests: the Slack and Sheets fakes, the test
 * SMTP server, a quota recorder in its own Keystone region, the real Keystone, and bots started
 * against all of them.
 */
import { randomBytes } from 'node:crypto';
import { expect, inject } from 'vitest';
import type { ApplicationRecord } from '../../src/domain/applications/store.js';
import type { Env } from '../../src/platform/config/config.js';
import type { Logger } from '../../src/platform/log.js';
import { HEADER, type RowInput, row } from '../domain/intake/fixtures.js';
import { adminClient } from '../keystone/fixtures.js';
import {
  approvalWorldEnv,
  startTestBot,
  TEST_ADMIN_CHANNEL,
  TEST_SIGNING_SECRET,
  type TestBot,
  uniquePrefix,
} from '../support/bot.js';
import {
  type KeystoneRegistration,
  type QuotaRecorder,
  startQuotaRecorder,
} from '../support/quota-recorder.js';
import { type SheetsFake, startSheetsFake } from '../support/sheets-fake.js';
import { type SlackFake, type SlackStoredMessage, startSlackFake } from '../support/slack-fake.js';
import { type SlackHttpResult, sendBlockAction } from '../support/slack-sign.js';
import { type SmtpTestServer, startSmtpServer } from '../support/smtp.js';

export const ADMIN_1 = 'U0ADMIN1';
export const ADMIN_2 = 'U0ADMIN2';
export const OUTSIDER = 'U0OUTSIDER';
export const APPLICATIONS_TAB = 'Form Responses 1';
export const ADMITTED_TAB = 'Current Users';
export { NEVER } from '../support/bot.js';

export interface Harness {
  slack: SlackFake;
  sheets: SheetsFake;
  smtp: SmtpTestServer;
  recorder: QuotaRecorder;
  registration: KeystoneRegistration;
  keystone: ReturnType<typeof adminClient>;
  /** Settings for a bot against this world; a shared prefix makes several bots one deployment. */
  env(prefix: string, overrides?: Env): Env;
  /** A bot on this world; `log` receives its log lines (silent when absent). */
  start(prefix?: string, overrides?: Env, log?: Logger): Promise<TestBot>;
  close(): Promise<void>;
}

export async function startHarness(label: string): Promise<Harness> {
  const provided = inject('keystone');
  const slack = await startSlackFake();
  const sheets = await startSheetsFake();
  const smtp = await startSmtpServer();
  const recorder = await startQuotaRecorder();
  const region = `kaizen-${label}-${randomBytes(3).toString('hex')}`;
  const registration = await recorder.registerInKeystone({
    authUrl: provided.authUrl,
    username: provided.username,
    password: provided.password,
    projectName: provided.projectName,
    userDomainName: provided.userDomainName,
    projectDomainName: provided.projectDomainName,
    region,
  });
  const keystone = adminClient({ region });
  const bots: TestBot[] = [];
  const env = (prefix: string, overrides: Env = {}): Env =>
    approvalWorldEnv({ slack, sheets, smtp }, provided, region, {
      REDIS_KEY_PREFIX: prefix,
      SLACK_ADMINS: `${ADMIN_1},${ADMIN_2}`,
      ...overrides,
    });
  return {
    slack,
    sheets,
    smtp,
    recorder,
    registration,
    keystone,
    env,
    async start(prefix = uniquePrefix(label), overrides = {}, log?: Logger) {
      const bot = await startTestBot(env(prefix, overrides), log);
      bots.push(bot);
      return bot;
    },
    async close() {
      await Promise.allSettled(bots.map((bot) => bot.stop()));
      await registration.unregister().catch(() => undefined);
      await Promise.allSettled([slack.close(), sheets.close(), smtp.close(), recorder.close()]);
      // Every card and modal the bots sent must be one Slack accepts.
      slack.assertNothingRefused();
    },
  };
}

/** An applicant with names unique to this run, so reruns against one Keystone never collide. */
export function uniqueApplicant(
  label: string,
  input: RowInput = {},
): { email: string; project: string; cells: string[] } {
  const tag = randomBytes(4).toString('hex');
  const email = `${label}-${tag}@example.org`;
  const project = `${label}-lab-${tag}`;
  return {
    email,
    project,
    cells: row({ email, newProjectName: project, timestamp: `11/02/2026 10:00:00 ${tag}`, ...input }),
  };
}

export function setApplications(sheets: SheetsFake, rows: string[][]): void {
  sheets.setTab(APPLICATIONS_TAB, [HEADER, ...rows]);
}

/** Runs one intake poll on the bot, as the schedule and `/kaizen sync` do. */
export async function poll(bot: TestBot) {
  const intake = bot.bot.intake;
  if (!intake) throw new Error('the bot has no sheet intake: is Sheets configured?');
  return intake.poll();
}

/**
 * A new applicant (names unique to this run, `input` for the rest of its row) whose card a sheet
 * poll on `bot` has just posted; answers its names, the card as first posted, and its id.
 */
export async function applicantWithCard(world: Harness, bot: TestBot, label: string, input: RowInput = {}) {
  const who = uniqueApplicant(label, input);
  setApplications(world.sheets, [who.cells]);
  expect(await poll(bot)).toMatchObject({ new: 1 });
  const card = structuredClone(cardOf(world.slack, who.email));
  const id = buttonsOf(card)[0]?.value ?? '';
  expect(id).not.toBe('');
  return { ...who, card, id };
}

/** The card of an applicant, as Slack now shows it. */
export function cardOf(slack: SlackFake, email: string): SlackStoredMessage {
  const card = slack
    .messages(TEST_ADMIN_CHANNEL)
    .find((message) => JSON.stringify(message.blocks ?? []).includes(`*Email*\\n${email}`));
  if (!card) throw new Error(`no card for ${email} in the admin channel`);
  return card;
}

export function buttonsOf(message: SlackStoredMessage): { action_id: string; value: string; text: string }[] {
  const blocks = (message.blocks ?? []) as {
    type: string;
    elements?: { action_id: string; value: string; text: { text: string } }[];
  }[];
  return blocks
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements ?? [])
    .map((element) => ({ action_id: element.action_id, value: element.value, text: element.text.text }));
}

export function textOf(message: SlackStoredMessage): string {
  return JSON.stringify(message.blocks ?? []);
}

/**
 * Waits until every one of `cards` shows an approval; on a timeout the error carries what each card
 * still not approved says below its divider (a failed step says which and why).
 */
export async function waitForApproved(
  slack: SlackFake,
  cards: readonly Pick<SlackStoredMessage, 'channel' | 'ts'>[],
  timeoutMs: number,
  description: string,
): Promise<void> {
  const current = () => cards.map((card) => slack.message(card.channel, card.ts));
  try {
    await slack.waitFor(
      () => current().every((card) => card !== undefined && isApproved(card)),
      timeoutMs,
      description,
    );
  } catch (error) {
    const stuck = current()
      .filter((card) => card === undefined || !isApproved(card))
      .map((card) => (card === undefined ? '(card gone)' : statusOf(card)));
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\nnot approved:\n${stuck.join('\n')}`,
    );
  }
}

/** The card's status lines: the text of the blocks after its divider. */
function statusOf(card: SlackStoredMessage): string {
  const blocks = (card.blocks ?? []) as { type?: string }[];
  const divider = blocks.findIndex((block) => block.type === 'divider');
  return JSON.stringify(blocks.slice(divider + 1));
}

/** Clicks a button of the card as `user`. */
export function click(
  bot: Pick<TestBot, 'eventsUrl'>,
  card: SlackStoredMessage,
  user: string,
  actionId: string,
): Promise<SlackHttpResult> {
  const button = buttonsOf(card).find((candidate) => candidate.action_id === actionId);
  const value = button?.value ?? buttonsOf(card)[0]?.value ?? '';
  return sendBlockAction(bot.eventsUrl, TEST_SIGNING_SECRET, {
    user,
    actionId,
    value,
    message: { channel: card.channel, ts: card.ts, blocks: card.blocks ?? [] },
  });
}

/** Waits until the card of `email` satisfies `done` (background provisioning redraws it). */
export async function waitForCard(
  slack: SlackFake,
  email: string,
  done: (card: SlackStoredMessage) => boolean,
  timeoutMs = 20_000,
): Promise<SlackStoredMessage> {
  return slack.waitFor(
    () => {
      try {
        const card = cardOf(slack, email);
        return done(card) ? card : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    `card of ${email} in the expected state`,
  );
}

/** An approved card: it says who approved, and no buttons are left. */
export function isApproved(card: SlackStoredMessage): boolean {
  return textOf(card).includes('Approved by') && buttonsOf(card).length === 0;
}

/** What an approval of `who` left behind in `world`, counted where each thing lives. */
export async function footprint(world: Harness, who: { email: string; project: string }) {
  const project = await world.keystone.findProjectByName(who.project, 'default');
  const user = await world.keystone.findUserByName(who.email, 'default');
  const roles =
    project && user
      ? await world.keystone.listRoleAssignments({ userId: user.id, projectId: project.id })
      : [];
  return {
    project: project !== undefined,
    user: user !== undefined,
    roles: roles.map((role) => role.roleName),
    emails: world.smtp.messages.filter((mail) => mail.to.includes(who.email)).length,
    admittedRows: (world.sheets.tab(ADMITTED_TAB) ?? []).filter((cells) => cells.includes(who.email)).length,
  };
}

/** The footprint of one finished approval: exactly one of everything. */
export const ONE_OF_EVERYTHING = { project: true, user: true, roles: ['member'], emails: 1, admittedRows: 1 };

export async function recordOf(bot: TestBot, id: string): Promise<ApplicationRecord | undefined> {
  return bot.bot.services.applications?.get(id);
}
