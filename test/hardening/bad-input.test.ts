/**
 * The bad-input catalog: what a careless or hostile person can send the bot, one row per input,
 * each with the answer it must get. After every input the test proves that nothing else changed:
 * the keys and values under the bot's Redis prefix (a case names the few it may touch, such as a
 * failure budget), the messages of the admin channel (a case names how many notices it may post),
 * and Keystone (no project or user named in the input exists). The counts land in
 * test/artifacts/bad-input-catalog.json, and the README's Reliability section quotes them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_1,
  ADMIN_2,
  APPLICATIONS_TAB,
  buttonsOf,
  cardOf,
  type Harness,
  OUTSIDER,
  poll,
  setApplications,
  startHarness,
  textOf,
  uniqueApplicant,
  waitForCard,
} from '../approval/harness.js';
import { kaizen } from '../commands/helpers.js';
import { HEADER, type RowInput } from '../domain/intake/fixtures.js';
import {
  alerts,
  heading,
  openLink,
  post,
  strongPassword,
  submit,
  tokenOf,
} from '../domain/setpass/helpers.js';
import { anonymousClient, newMember } from '../keystone/fixtures.js';
import { TEST_ADMIN_CHANNEL, TEST_SIGNING_SECRET, type TestBot, uniquePrefix } from '../support/bot.js';
import { captureLogs } from '../support/log-capture.js';
import {
  blockActionPayload,
  payloadBody,
  type SlackHttpResult,
  sendBlockAction,
  sendSigned,
  sendSlashCommand,
  sendViewSubmission,
  slackSignature,
  slashCommandBody,
  viewSubmissionPayload,
} from '../support/slack-sign.js';
import { redisPlace, SecretLedger, slackPlace } from './secret-scan.js';
import { changesBetween, takeState } from './world-state.js';

type Group = 'sheet rows' | 'slash commands' | 'Slack requests' | 'password page' | 'token API';

/** What came back: an HTTP status (or, for sheet rows, what the poll counted) and the words a person sees. */
interface Answer {
  status: number | string;
  text: string;
}

interface BadInput {
  group: Group;
  name: string;
  send: (ctx: Context) => Promise<Answer>;
  expect: {
    status: number | string;
    /** The clear error: a fragment of the answer, or a pattern it matches. */
    text: string | RegExp;
    /** What must not be in the answer (the input echoed raw, a mention that would ping everyone). */
    not?: RegExp;
  };
  /** Redis keys (without the prefix) this input may add or change: an audit line, a failure budget. */
  mayChange?: readonly RegExp[];
  /** Messages the input may post to the admin channel (a notice, a defused card); none by default. */
  posts?: number;
  /** Keystone project and user names that must not exist afterwards. */
  absent?: () => { projects: string[]; users: string[] };
}

interface Fixture {
  id: string;
  email: string;
}

interface Context {
  world: Harness;
  /** Every password typed into the page is one more secret the final scan looks for. */
  ledger: SecretLedger;
  bot: TestBot;
  pending: Fixture;
  approved: Fixture & { replay: { body: string; timestamp: number } };
  rejected: Fixture & { replay: { body: string; timestamp: number } };
  /** A Keystone user with a live password link. */
  member: { userId: string; username: string; token: string; pin: string };
  adminToken: string;
  memberToken: string;
}

const AUDIT = /^audit$/;
const SHEET_NOTICE = /^sheet:notice:/;
const NEW_APPLICATION = [/^app:/, /^sheet:seen:/, /^lock:card:/, SHEET_NOTICE];
const PAGE_BUDGETS = /^setpass:limit:/;
/** Every successful sheet read records its time (for the metrics), whatever the rows hold. */
const SHEET_LAST_READ = /^sheet:last-read:/;
const FORM = 'application/x-www-form-urlencoded';
const BIG = 10_000;
const MEGABYTE = 1024 * 1024;

/** Each input comes from an address of its own, so the page's per-address budget never mixes cases. */
let ipCount = 0;
const freshIp = () => {
  ipCount += 1;
  return `198.18.${Math.floor(ipCount / 250)}.${(ipCount % 250) + 1}`;
};

/** A unique applicant whose row is changed by `input`, with the names Keystone must not get. */
function applicant(label: string, input: RowInput = {}) {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 24);
  const made = uniqueApplicant(`bad-${slug}`, input);
  const email = (input.email ?? made.email).toLowerCase();
  const project = input.newProjectName ?? made.project;
  // A name longer than Keystone takes cannot exist there, and would make an overlong query.
  const names = () => ({
    projects: [project].filter((name) => name.length <= 64),
    users: [email].filter((name) => name.length <= 255),
  });
  return { ...made, names };
}

/**
 * The mrkdwn texts of blocks: what Slack parses for mentions and links. Plain-text objects (a header,
 * a button label) are shown literally, so `<!channel>` there pings nobody.
 */
function mrkdwnOf(blocks: unknown): string[] {
  if (Array.isArray(blocks)) return blocks.flatMap(mrkdwnOf);
  if (typeof blocks !== 'object' || blocks === null) return [];
  const node = blocks as Record<string, unknown>;
  const own = node.type === 'mrkdwn' && typeof node.text === 'string' ? [node.text] : [];
  return [...own, ...Object.values(node).flatMap(mrkdwnOf)];
}

/** Puts `rows` under the header (or `sheet` as it is) in the tab, polls once, and answers the counts and what was posted. */
async function pollSheet(ctx: Context, rows: string[][], sheet?: string[][]): Promise<Answer> {
  if (sheet) ctx.world.sheets.setTab(APPLICATIONS_TAB, sheet);
  else setApplications(ctx.world.sheets, rows);
  const before = ctx.world.slack.messages(TEST_ADMIN_CHANNEL).length;
  const counts = await poll(ctx.bot);
  const posted = ctx.world.slack
    .messages(TEST_ADMIN_CHANNEL)
    .slice(before)
    .map((message) => [message.text ?? '', ...mrkdwnOf(message.blocks ?? [])].join('\n'));
  return {
    status: `new ${counts.new} invalid ${counts.invalid}`,
    text: [counts.problem ?? '', ...posted].join('\n'),
  };
}

function sheetRow(label: string, input: RowInput, reason: string, not?: RegExp): BadInput {
  const who = applicant(label, input);
  return {
    group: 'sheet rows',
    name: label,
    send: (ctx) => pollSheet(ctx, [who.cells]),
    expect: { status: 'new 0 invalid 1', text: reason, ...(not ? { not } : {}) },
    mayChange: [SHEET_NOTICE],
    posts: 1,
    absent: who.names,
  };
}

/** A row that is taken in, its dangerous text shown as typed and never run. */
function defusedRow(label: string, input: RowInput, shown: string | RegExp, not: RegExp): BadInput {
  const who = applicant(label, input);
  return {
    group: 'sheet rows',
    name: label,
    send: (ctx) => pollSheet(ctx, [who.cells]),
    expect: { status: 'new 1 invalid 0', text: shown, not },
    mayChange: NEW_APPLICATION,
    posts: 1,
    absent: who.names,
  };
}

async function slash(ctx: Context, text: string, user = ADMIN_1): Promise<Answer> {
  const reply = await kaizen(ctx.bot, ctx.world.slack, text, user);
  return { status: reply.status, text: `${reply.text}\n${reply.blocksText}` };
}

function slashCase(name: string, text: string, answer: string | RegExp, not?: RegExp): BadInput {
  return {
    group: 'slash commands',
    name,
    send: (ctx) => slash(ctx, text),
    expect: { status: 200, text: answer, ...(not ? { not } : {}) },
  };
}

/** A Slack request's HTTP answer, followed by what the bot told the user ephemerally meanwhile. */
async function slackAnswer(ctx: Context, request: () => Promise<SlackHttpResult>): Promise<Answer> {
  const before = ctx.world.slack.ephemerals().length;
  const result = await request();
  const told = ctx.world.slack
    .ephemerals()
    .slice(before)
    .map((message) => message.text ?? '');
  return { status: result.status, text: [result.text, ...told].join('\n') };
}

const slashBody = (text: string) => slashCommandBody({ text, user_id: ADMIN_1 });

function slackCase(
  name: string,
  request: (ctx: Context) => Promise<SlackHttpResult>,
  status: number,
  text: string | RegExp,
  extra: Partial<BadInput> = {},
): BadInput {
  return {
    group: 'Slack requests',
    name,
    send: (ctx) => slackAnswer(ctx, () => request(ctx)),
    expect: { status, text },
    ...extra,
  };
}

const now = () => Math.floor(Date.now() / 1000);

function click(ctx: Context, actionId: string, value: string, user = ADMIN_1) {
  return sendBlockAction(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, {
    user,
    actionId,
    value,
    message: { channel: TEST_ADMIN_CHANNEL, ts: '1.000001' },
  });
}

function modal(
  ctx: Context,
  callbackId: string,
  privateMetadata: string,
  values: Parameters<typeof sendViewSubmission>[2]['values'],
  user = ADMIN_1,
) {
  return sendViewSubmission(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, {
    user,
    callbackId,
    privateMetadata,
    values,
  });
}

/** The heading and the alert box of a page: what the person reads first. */
const pageText = (html: string) => [heading(html) ?? '', ...alerts(html)].join(' | ');

async function postForm(ctx: Context, fields: Record<string, string>, options: { cookie?: boolean } = {}) {
  for (const typed of [fields.password, fields.confirm_password]) {
    if (typed !== undefined && typed.length >= 8) ctx.ledger.add('a password typed into the page', typed);
  }
  const ip = freshIp();
  const opened = await openLink(ctx.bot.url, ctx.member.token, ip);
  const body = new URLSearchParams({ token: ctx.member.token, csrf: opened.csrf ?? '', ...fields });
  const answer = await post(ctx.bot.url, body.toString(), {
    'content-type': FORM,
    'x-forwarded-for': ip,
    ...(options.cookie === false ? {} : { cookie: opened.cookie ?? '' }),
  });
  return { status: answer.status, text: pageText(answer.html) };
}

function pageCase(
  name: string,
  send: (ctx: Context) => Promise<Answer>,
  status: number,
  text: string | RegExp,
  extra: Partial<BadInput> = {},
): BadInput {
  return {
    group: 'password page',
    name,
    send,
    expect: { status, text },
    mayChange: [PAGE_BUDGETS],
    ...extra,
  };
}

/** A form with the right PIN and these passwords: only the password rules can refuse it. */
const withPasswords =
  (password: string, confirm = password) =>
  (ctx: Context) =>
    postForm(ctx, { pin: ctx.member.pin, password, confirm_password: confirm });

async function put(
  ctx: Context,
  userId: string,
  body: string | undefined,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${ctx.bot.url}/token/${userId}`, {
    method: 'PUT',
    headers: { 'x-auth-token': ctx.adminToken, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, text: await response.text() };
}

function apiCase(
  name: string,
  send: (ctx: Context) => Promise<Answer>,
  status: number,
  text: string | RegExp,
  extra: Partial<BadInput> = {},
): BadInput {
  return { group: 'token API', name, send, expect: { status, text }, ...extra };
}

const long = (length: number, unit = 'x') => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

const CATALOG: BadInput[] = [
  // ── Sheet rows: each one is refused with its reason in one notice, or taken in with its text defused.
  sheetRow('no email', { email: '' }, 'Email is empty'),
  sheetRow('no first name', { firstName: '' }, 'First name is empty'),
  sheetRow('no last name', { lastName: '  ' }, 'Last name is empty'),
  sheetRow('no PIN', { pin: '' }, 'PIN is empty'),
  sheetRow('PIN with a letter', { pin: '12a4' }, 'PIN must be 4 digits', /12a4/),
  sheetRow('PIN of three digits', { pin: '123' }, 'PIN must be 4 digits'),
  sheetRow('PIN of five digits', { pin: '12345' }, 'PIN must be 4 digits', /12345/),
  sheetRow('email without @', { email: `ann.at.example.org` }, 'Email is not a valid email address'),
  sheetRow('email with two @', { email: `ann@@example.org` }, 'Email is not a valid email address'),
  sheetRow(
    'email as a Slack link',
    { email: '<mailto:boss@corp.example|boss@corp.example>' },
    'Email is not a valid email address',
    /<mailto:/,
  ),
  sheetRow(
    'no project at all',
    { projectKind: '', newProjectName: '' },
    'no project: fill in New project name or Existing project name',
  ),
  sheetRow(
    'project kind "Maybe"',
    { projectKind: 'Maybe' },
    'New or existing project is "Maybe"; expected "New project" or "Existing project"',
  ),
  sheetRow(
    'existing project without its name',
    { projectKind: 'Existing project', newProjectName: '' },
    'Existing project name is empty',
  ),
  sheetRow(
    'first name of 10,000 characters',
    { firstName: long(BIG, 'Ann') },
    'First name is too long (at most 64 characters)',
  ),
  sheetRow(
    'last name of 10,000 characters',
    { lastName: long(BIG, 'Lee') },
    'Last name is too long (at most 64 characters)',
  ),
  sheetRow(
    'email of 10,000 characters',
    { email: `${long(BIG, 'a')}@example.org` },
    'Email is too long (at most 254 characters)',
  ),
  sheetRow(
    'project name of 10,000 characters',
    { newProjectName: long(BIG, 'lab') },
    'New project name is too long (at most 64 characters)',
  ),
  sheetRow(
    'organization of 10,000 characters',
    { organization: long(BIG, 'Org ') },
    'Organization is too long (at most 200 characters)',
  ),
  sheetRow('timestamp of 10,000 characters', { timestamp: long(BIG, '1') }, 'Timestamp is too long'),
  sheetRow(
    'extra users of 10,000 characters',
    { extraUsers: long(BIG, 'a@b.org ') },
    'Extra existing users is too long (at most 2000 characters)',
  ),
  sheetRow(
    '21 extra users',
    { extraUsers: Array.from({ length: 21 }, (_, i) => `u${i}@example.org`).join(', ') },
    'Extra existing users lists more than 20 users',
  ),
  // A cell is data whatever its first character: taken in, shown as typed, written back RAW.
  defusedRow(
    'first name as a formula',
    { firstName: '=HYPERLINK("https://evil.example","x")' },
    '=HYPERLINK("https://evil.example","x")',
    /starts with/,
  ),
  defusedRow('last name as a formula', { lastName: '+SUM(1,1)' }, '+SUM(1,1)', /starts with/),
  defusedRow(
    'project name as a formula',
    { newProjectName: "-2+3+cmd|' /C calc'!A0" },
    "*New project:* -2+3+cmd|' /C calc'!A0",
    /starts with/,
  ),
  defusedRow('sponsor as a formula', { sponsor: '@SUM(A1:A9)' }, '@SUM(A1:A9)', /starts with/),
  defusedRow('phone as a formula', { phone: '=1+1' }, '=1+1', /starts with/),
  defusedRow(
    'extra user as a formula',
    { extraUsers: 'ok@example.org, =IMPORTXML(x)' },
    'Also add: ok@example.org, =IMPORTXML(x)',
    /starts with/,
  ),
  sheetRow(
    'contact email that is not one',
    {
      projectKind: 'Existing project',
      newProjectName: '',
      existingProjectName: 'Shared Lab',
      contactEmail: 'the boss',
    },
    'Contact email is not a valid email address',
  ),
  defusedRow(
    'mrkdwn in the names',
    { firstName: '<!channel>', lastName: '*Boss* <https://evil.example|click>' },
    '&lt;!channel&gt;',
    /<!channel>|<https:\/\/evil/,
  ),
  defusedRow(
    'HTML in organization and comment',
    { organization: '<script>alert(1)</script>', comment: '<img src=x onerror=alert(1)>' },
    '&lt;script&gt;alert(1)&lt;/script&gt;',
    /<script>|<img/,
  ),
  defusedRow(
    'comment of 10,000 characters',
    { comment: long(BIG, 'words ') },
    'The comment was 10000 characters long; the card shows the first 2000.',
    /(words ){400}/,
  ),
  {
    group: 'sheet rows',
    name: 'the same row twice',
    send: async (ctx) => {
      const who = applicant('twice');
      return pollSheet(ctx, [who.cells, who.cells]);
    },
    expect: { status: 'new 1 invalid 0', text: 'New applicant' },
    mayChange: NEW_APPLICATION,
    posts: 1,
  },
  {
    group: 'sheet rows',
    name: 'a second application for the same project while the first waits',
    send: async (ctx) => {
      const first = applicant('again');
      const again = [...first.cells];
      again[0] = `${again[0]} (again)`;
      return pollSheet(ctx, [first.cells, again]);
    },
    expect: { status: 'new 2 invalid 0', text: /Possible duplicate: bad-again-\w+@example\.org applied for/ },
    mayChange: NEW_APPLICATION,
    posts: 2,
  },
  {
    group: 'sheet rows',
    name: 'an empty sheet',
    send: (ctx) => pollSheet(ctx, [], []),
    expect: {
      status: 'new 0 invalid 0',
      text: 'The applications tab "Form Responses 1" is empty: it needs a header row',
    },
    mayChange: [SHEET_NOTICE],
    posts: 1,
  },
  {
    group: 'sheet rows',
    name: 'a sheet without the expected headers',
    send: (ctx) =>
      pollSheet(
        ctx,
        [],
        [
          ['When', 'Mail', 'Name', 'Secret'],
          ['11/02/2026', 'ann@example.org', 'Ann', '1234'],
        ],
      ),
    expect: {
      status: 'new 0 invalid 0',
      text: /has no column for Timestamp, Email, First name, Last name, PIN/,
    },
    mayChange: [SHEET_NOTICE],
    posts: 1,
  },
  {
    group: 'sheet rows',
    name: 'a header row and rows of blanks only',
    send: (ctx) => pollSheet(ctx, [[], ['', ' ', '\u00a0'], Array(HEADER.length).fill('')]),
    expect: { status: 'new 0 invalid 0', text: '' },
  },

  // ── /kaizen: every reply is one readable ephemeral line, and a bad command changes nothing.
  slashCase('an unknown word', 'frobnicate now', /I don't know `frobnicate`/),
  slashCase('control characters', '\u0000\u0007\u001b[31m', /\/kaizen help|\/kaizen status/),
  slashCase('status without a user', 'status', /Usage: `\/kaizen status <email\|username>` \(missing user\)/),
  slashCase(
    'reset with two users',
    'reset a@example.org b@example.org',
    /Usage: `\/kaizen reset .*\(unexpected "b@example.org"\)/,
  ),
  slashCase('sync with arguments', 'sync now please', /Usage: `\/kaizen sync` \(unexpected "now" "please"\)/),
  slashCase('an unknown option', 'pending --all', /Usage: `\/kaizen pending` \(unknown option "--all"\)/),
  slashCase(
    'a channel mention as the user',
    'status <!channel>',
    /is not an email, a user name or an @mention/,
    /<!channel>/,
  ),
  slashCase('a mention inside the user', 'status boss<!here>', '"boss!here" is not an email', /<!here>/),
  slashCase(
    'shell in the user',
    'reset $(rm -rf /)',
    /Usage: `\/kaizen reset <email\|username>` \(unknown option "-rf"\)/,
  ),
  slashCase(
    'SQL in the user',
    "status x'; DROP TABLE users; --",
    /Usage: `\/kaizen status <email\|username>` \(unknown option "--"\)/,
  ),
  slashCase(
    'a line break and a second command',
    'status a@example.org\n/kaizen reset b@example.org',
    /Usage: `\/kaizen status .*\(unexpected/,
  ),
  slashCase(
    'a user of 100,000 characters',
    `status ${long(100_000, 'a')}`,
    /is not an email, a user name or an @mention/,
    /a{200}/,
  ),
  slashCase('an unknown word of 100,000 characters', long(100_000, 'z'), /I don't know `z{1,40}`/, /z{41}/),
  slashCase(
    'pending with 50,000 characters of arguments',
    `pending ${long(50_000, 'x ')}`,
    /Usage: `\/kaizen pending`/,
    /(x ){100}/,
  ),
  {
    group: 'slash commands',
    name: 'reset from someone who is not an admin',
    send: (ctx) => slash(ctx, 'reset ann@example.org', OUTSIDER),
    expect: { status: 200, text: /not allowed/ },
    mayChange: [AUDIT],
  },

  // ── Slack requests: only Slack's own, fresh, signed requests are read; the rest change nothing.
  slackCase(
    'a bad signature',
    (ctx) =>
      sendSlashCommand(
        ctx.bot.eventsUrl,
        TEST_SIGNING_SECRET,
        { text: 'pending', user_id: ADMIN_1 },
        { signature: `v0=${'0'.repeat(64)}` },
      ),
    401,
    '',
  ),
  slackCase(
    'signed with another secret',
    (ctx) =>
      sendSlashCommand(ctx.bot.eventsUrl, 'not-the-signing-secret-at-all', {
        text: 'pending',
        user_id: ADMIN_1,
      }),
    401,
    '',
  ),
  slackCase(
    'no signature headers',
    async (ctx) => {
      const response = await fetch(ctx.bot.eventsUrl, {
        method: 'POST',
        headers: { 'content-type': FORM },
        body: slashBody('pending'),
      });
      return { status: response.status, text: await response.text() };
    },
    401,
    '',
  ),
  slackCase(
    'a body changed after signing',
    (ctx) => {
      const timestamp = now();
      return sendSigned(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, slashBody('reset ann@example.org'), FORM, {
        timestamp,
        signature: slackSignature(TEST_SIGNING_SECRET, slashBody('pending'), timestamp),
      });
    },
    401,
    '',
  ),
  slackCase(
    'a stale timestamp (10 minutes old)',
    (ctx) =>
      sendSlashCommand(
        ctx.bot.eventsUrl,
        TEST_SIGNING_SECRET,
        { text: 'pending', user_id: ADMIN_1 },
        { timestamp: now() - 600 },
      ),
    401,
    '',
  ),
  slackCase(
    'a future timestamp (10 minutes ahead)',
    (ctx) =>
      sendSlashCommand(
        ctx.bot.eventsUrl,
        TEST_SIGNING_SECRET,
        { text: 'pending', user_id: ADMIN_1 },
        { timestamp: now() + 600 },
      ),
    401,
    '',
  ),
  slackCase(
    'a timestamp that is not a number',
    (ctx) =>
      sendSigned(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, slashBody('pending'), FORM, {
        headers: { 'x-slack-request-timestamp': 'yesterday' },
      }),
    401,
    '',
  ),
  slackCase(
    'a replayed Approve click',
    (ctx) =>
      sendSigned(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, ctx.approved.replay.body, FORM, {
        timestamp: ctx.approved.replay.timestamp,
      }),
    200,
    // Acknowledged and not acted on: not even a reply.
    /^\s*$/,
  ),
  slackCase(
    'a replayed Reject submission',
    (ctx) =>
      sendSigned(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, ctx.rejected.replay.body, FORM, {
        timestamp: ctx.rejected.replay.timestamp,
      }),
    200,
    /^\s*$/,
  ),
  slackCase('an unknown action', (ctx) => click(ctx, 'applicant_promote', ctx.pending.id), 404, ''),
  slackCase('an unknown modal', (ctx) => modal(ctx, 'applicant_promote_modal', ctx.pending.id, {}), 404, ''),
  slackCase(
    'Approve for an applicant not on file',
    (ctx) => click(ctx, 'applicant_approve', 'no-such-applicant'),
    200,
    'This application is no longer on file.',
  ),
  slackCase(
    'Approve without a value',
    (ctx) => click(ctx, 'applicant_approve', ''),
    200,
    'This application is no longer on file.',
  ),
  slackCase(
    'Approve from someone who is not an admin',
    (ctx) => click(ctx, 'applicant_approve', ctx.pending.id, OUTSIDER),
    200,
    `You're not allowed to do that; ask an admin of <#${TEST_ADMIN_CHANNEL}>.`,
  ),
  slackCase(
    'a payload that is not JSON',
    (ctx) => sendSigned(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, 'payload=%7Bnot%20json', FORM),
    400,
    '',
  ),
  slackCase(
    'a form without a payload',
    (ctx) => sendSigned(ctx.bot.eventsUrl, TEST_SIGNING_SECRET, 'approve=everyone', FORM),
    404,
    '',
  ),
  slackCase(
    'Reject with an empty reason',
    (ctx) => modal(ctx, 'applicant_reject_modal', ctx.pending.id, { reject_reason: { reason: '   ' } }),
    200,
    'Give a reason: it is shown on the card, and emailed when you tick the box.',
  ),
  slackCase(
    'Reject with a reason of 10,000 characters',
    (ctx) =>
      modal(ctx, 'applicant_reject_modal', ctx.pending.id, { reject_reason: { reason: long(BIG, 'no ') } }),
    200,
    'Keep the reason under 1000 characters.',
  ),
  slackCase(
    'Reject for an applicant not on file',
    (ctx) => modal(ctx, 'applicant_reject_modal', 'no-such-applicant', { reject_reason: { reason: 'spam' } }),
    200,
    'This application is no longer on file.',
  ),
  slackCase(
    'Reject from someone who is not an admin',
    (ctx) =>
      modal(ctx, 'applicant_reject_modal', ctx.pending.id, { reject_reason: { reason: 'spam' } }, OUTSIDER),
    200,
    "You're not allowed to do that; ask an admin of the admin channel.",
  ),
  slackCase(
    'Quota with an unknown preset',
    (ctx) =>
      modal(ctx, 'applicant_quota_modal', ctx.pending.id, {
        quota_preset: { preset: { type: 'static_select', selected_option: { value: 'enormous' } } },
      }),
    200,
    'Choose one of small, medium, large.',
  ),
  slackCase(
    'Quota with words, fractions and 200 digits',
    (ctx) =>
      modal(ctx, 'applicant_quota_modal', ctx.pending.id, {
        quota_instances: { value: { type: 'number_input', value: 'lots' } },
        quota_cores: { value: { type: 'number_input', value: '2.5' } },
        quota_port: { value: { type: 'number_input', value: long(200, '9') } },
      }),
    200,
    /^\{"response_action":"errors","errors":\{"quota_cores":"Enter a whole number, or -1 for unlimited","quota_instances":"Enter a whole number, or -1 for unlimited","quota_port":"Enter a whole number, or -1 for unlimited"\}\}$/,
  ),

  // ── The password page: a clear page for every mistake; only a wrong PIN counts as an attempt.
  pageCase(
    'a token of 5 characters',
    async (ctx) => {
      const opened = await openLink(ctx.bot.url, 'abcde', freshIp());
      return { status: opened.status, text: pageText(opened.html) };
    },
    404,
    'This link is no longer valid',
  ),
  pageCase(
    'a token of 5,000 characters',
    async (ctx) => {
      const opened = await openLink(ctx.bot.url, long(5_000, 'A'), freshIp());
      return { status: opened.status, text: pageText(opened.html) };
    },
    404,
    'This link is no longer valid',
  ),
  pageCase(
    'a token with HTML in it',
    async (ctx) => {
      const opened = await openLink(ctx.bot.url, '"><script>alert(1)</script>', freshIp());
      return { status: opened.status, text: opened.html };
    },
    404,
    'This link is no longer valid',
    { expect: { status: 404, text: 'This link is no longer valid', not: /<script>alert/ } },
  ),
  pageCase(
    'a well-formed token nobody was given',
    async (ctx) => {
      const opened = await openLink(ctx.bot.url, randomBytes(32).toString('base64url'), freshIp());
      return { status: opened.status, text: pageText(opened.html) };
    },
    404,
    'This link is no longer valid',
  ),
  pageCase(
    'a form posted as JSON',
    async (ctx) => {
      const answer = await post(
        ctx.bot.url,
        JSON.stringify({ token: ctx.member.token, pin: ctx.member.pin }),
        { 'content-type': 'application/json', 'x-forwarded-for': freshIp() },
      );
      return { status: answer.status, text: pageText(answer.html) };
    },
    415,
    'This form could not be read',
  ),
  pageCase(
    'a form posted as multipart',
    async (ctx) => {
      const answer = await post(ctx.bot.url, '--x\r\n\r\n--x--', {
        'content-type': 'multipart/form-data; boundary=x',
        'x-forwarded-for': freshIp(),
      });
      return { status: answer.status, text: pageText(answer.html) };
    },
    415,
    'This form could not be read',
  ),
  pageCase(
    'a form posted as plain text',
    async (ctx) => {
      const answer = await post(ctx.bot.url, 'token=x', {
        'content-type': 'text/plain',
        'x-forwarded-for': freshIp(),
      });
      return { status: answer.status, text: pageText(answer.html) };
    },
    415,
    'This form could not be read',
  ),
  pageCase(
    'a body of 1 MB',
    async (ctx) => {
      const answer = await post(ctx.bot.url, `token=${ctx.member.token}&password=${long(MEGABYTE, 'a')}`, {
        'content-type': FORM,
        'x-forwarded-for': freshIp(),
      });
      return { status: answer.status, text: pageText(answer.html) };
    },
    413,
    'That was too much to send',
  ),
  pageCase(
    'no anti-forgery field',
    async (ctx) => {
      const ip = freshIp();
      const opened = await openLink(ctx.bot.url, ctx.member.token, ip);
      const body = new URLSearchParams({
        token: ctx.member.token,
        pin: ctx.member.pin,
        password: strongPassword(),
        confirm_password: 'x',
      });
      const answer = await post(ctx.bot.url, body.toString(), {
        'content-type': FORM,
        cookie: opened.cookie ?? '',
        'x-forwarded-for': ip,
      });
      return { status: answer.status, text: pageText(answer.html) };
    },
    403,
    'This page had expired or your browser did not send back its security cookie.',
  ),
  pageCase(
    'no anti-forgery cookie',
    (ctx) => postForm(ctx, { pin: ctx.member.pin, password: strongPassword() }, { cookie: false }),
    403,
    'This page had expired or your browser did not send back its security cookie.',
  ),
  pageCase(
    'an anti-forgery field that does not match',
    async (ctx) => {
      const ip = freshIp();
      const opened = await openLink(ctx.bot.url, ctx.member.token, ip);
      const answer = await submit(ctx.bot.url, ctx.member.token, {
        pin: ctx.member.pin,
        password: strongPassword(),
        csrf: `${opened.csrf}x`,
        cookie: opened.cookie,
        ip,
      });
      return { status: answer.status, text: pageText(answer.html) };
    },
    403,
    'This page had expired',
  ),
  pageCase(
    'no token field',
    async (ctx) => {
      const ip = freshIp();
      const opened = await openLink(ctx.bot.url, ctx.member.token, ip);
      const body = new URLSearchParams({
        csrf: opened.csrf ?? '',
        pin: ctx.member.pin,
        password: strongPassword(),
      });
      const answer = await post(ctx.bot.url, body.toString(), {
        'content-type': FORM,
        cookie: opened.cookie ?? '',
        'x-forwarded-for': ip,
      });
      return { status: answer.status, text: pageText(answer.html) };
    },
    404,
    'This link is no longer valid',
  ),
  pageCase(
    'no PIN',
    (ctx) => postForm(ctx, { password: strongPassword() }),
    400,
    'Enter the 4-digit PIN you chose when you applied.',
  ),
  pageCase(
    'PIN "12a4"',
    (ctx) => postForm(ctx, { pin: '12a4', password: strongPassword() }),
    400,
    'The PIN is exactly 4 digits (0–9).',
    { expect: { status: 400, text: 'The PIN is exactly 4 digits (0–9).', not: /12a4/ } },
  ),
  pageCase(
    'a PIN of 5,000 digits',
    (ctx) => postForm(ctx, { pin: long(5_000, '7'), password: strongPassword() }),
    400,
    'The PIN is exactly 4 digits (0–9).',
  ),
  pageCase(
    'a wrong PIN',
    (ctx) => postForm(ctx, { pin: ctx.member.pin === '0000' ? '0001' : '0000', password: strongPassword() }),
    400,
    'That PIN is not the one on file. 2 attempts left before this link is disabled.',
    { mayChange: [PAGE_BUDGETS, /^setpass:tok:/] },
  ),
  pageCase('no password', withPasswords(''), 400, 'Enter a new password.'),
  pageCase(
    'a password of 8 characters',
    withPasswords('Tr0ub4d!'),
    400,
    'Use at least 12 characters (this one has 8).',
  ),
  pageCase('a common password', withPasswords('password1234'), 400, /This password is too easy to guess/),
  pageCase(
    'a password that is the user name',
    (ctx) => withPasswords(`${ctx.member.username}-quartz-lantern`)(ctx),
    400,
    'Do not use your user name or email address in your password.',
  ),
  pageCase(
    'a confirmation that does not match',
    (ctx) => {
      const password = strongPassword();
      return withPasswords(password, `${password}!`)(ctx);
    },
    400,
    'The two passwords do not match. Type the same password in both fields.',
  ),
  pageCase(
    'a password with control characters',
    withPasswords('quartz\u0000lantern\u0007meadow-4821'),
    400,
    /control character/i,
  ),
  pageCase(
    'extra fields (user_id, is_admin) beside a missing PIN',
    (ctx) =>
      postForm(ctx, { user_id: 'admin', is_admin: 'true', username: 'admin', password: strongPassword() }),
    400,
    'Enter the 4-digit PIN you chose when you applied.',
  ),

  // ── PUT /token/:user_id: the setpass API refuses all but an admin's well-formed request.
  apiCase(
    'no X-Auth-Token',
    async (ctx) => put(ctx, ctx.member.userId, '{}', { 'x-auth-token': '' }),
    401,
    'An X-Auth-Token header with a Keystone token of a cloud admin is required.',
  ),
  apiCase(
    "a member's token",
    (ctx) =>
      put(ctx, ctx.member.userId, JSON.stringify({ pin: '2468' }), { 'x-auth-token': ctx.memberToken }),
    403,
    'This token does not belong to an admin of the admin project.',
  ),
  apiCase(
    'a token that is not one',
    (ctx) => put(ctx, ctx.member.userId, '{}', { 'x-auth-token': 'gAAAAA-forged' }),
    403,
    'This token does not belong to an admin of the admin project.',
  ),
  apiCase(
    'a body that is not JSON',
    (ctx) => put(ctx, ctx.member.userId, '{"password": '),
    400,
    'The body is not valid JSON.',
  ),
  apiCase(
    'a JSON array',
    (ctx) => put(ctx, ctx.member.userId, '["password", "1234"]'),
    400,
    'The body must be a JSON object: {"password": "...", "pin": "1234"}.',
  ),
  apiCase(
    'a PIN of three digits',
    (ctx) => put(ctx, ctx.member.userId, '{"pin": "123"}'),
    400,
    '"pin" must be exactly 4 digits, as a string such as "1234".',
  ),
  apiCase(
    'a PIN as a number',
    (ctx) => put(ctx, ctx.member.userId, '{"pin": 1234}'),
    400,
    '"pin" must be exactly 4 digits, as a string such as "1234".',
  ),
  apiCase(
    'an empty password',
    (ctx) => put(ctx, ctx.member.userId, '{"password": "", "pin": "1234"}'),
    400,
    '"password" must be a non-empty string.',
  ),
  apiCase(
    'a password Keystone does not take',
    (ctx) => put(ctx, ctx.member.userId, '{"password": "not-the-password", "pin": "1234"}'),
    400,
    /Keystone does not accept this password for user/,
  ),
  apiCase(
    'a form body',
    (ctx) => put(ctx, ctx.member.userId, 'password=x&pin=1234', { 'content-type': FORM }),
    415,
    'Send the body as application/json',
  ),
  apiCase(
    'a body of 1 MB',
    (ctx) => put(ctx, ctx.member.userId, JSON.stringify({ password: long(MEGABYTE, 'p'), pin: '1234' })),
    413,
    'The request body is too large.',
  ),
  apiCase(
    'a user id that is not one',
    (ctx) => put(ctx, 'a%20b', '{"pin": "1234"}'),
    400,
    'The user id in the path is not a Keystone user id.',
  ),
  apiCase(
    'DELETE instead of PUT',
    async (ctx) => {
      const response = await fetch(`${ctx.bot.url}/token/${ctx.member.userId}`, {
        method: 'DELETE',
        headers: { 'x-auth-token': ctx.adminToken },
      });
      return { status: response.status, text: await response.text() };
    },
    405,
    'Method not allowed',
  ),
];

const tally = { tried: 0, passed: 0 };
const groups = new Map<Group, number>();
for (const input of CATALOG) groups.set(input.group, (groups.get(input.group) ?? 0) + 1);

let ctx: Context;
let prefix: string;
let redis: Redis;
const logs = captureLogs('debug');
const ledger = new SecretLedger();

beforeAll(async () => {
  const world = await startHarness('badinput');
  prefix = uniquePrefix('badinput');
  const bot = await world.start(prefix, { TRUSTED_PROXIES: '127.0.0.1' }, logs.log);
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  ledger.addSettings(bot.env);

  // Three applicants: one approved and one rejected through requests kept for replaying, one waiting.
  const [approved, rejected, pending] = ['approved', 'rejected', 'pending'].map((label) =>
    uniqueApplicant(`bad-${label}`, { pin: ledger.newPin() }),
  );
  setApplications(world.sheets, [approved!.cells, rejected!.cells, pending!.cells]);
  await poll(bot);
  const idOf = (email: string) => buttonsOf(cardOf(world.slack, email))[0]?.value ?? '';

  const approveBody = payloadBody(
    blockActionPayload({
      user: ADMIN_1,
      actionId: 'applicant_approve',
      value: idOf(approved!.email),
      message: { channel: TEST_ADMIN_CHANNEL, ts: cardOf(world.slack, approved!.email).ts },
    }),
  );
  const approveAt = now();
  expect(
    (await sendSigned(bot.eventsUrl, TEST_SIGNING_SECRET, approveBody, FORM, { timestamp: approveAt }))
      .status,
  ).toBe(200);
  await waitForCard(
    world.slack,
    approved!.email,
    (card) => textOf(card).includes('Approved by') && buttonsOf(card).length === 0,
  );
  await world.smtp.waitForMessages(1);

  const rejectBody = payloadBody(
    viewSubmissionPayload({
      user: ADMIN_2,
      callbackId: 'applicant_reject_modal',
      privateMetadata: idOf(rejected!.email),
      values: { reject_reason: { reason: 'Apply through your sponsor' } },
    }),
  );
  const rejectAt = now();
  expect(
    (await sendSigned(bot.eventsUrl, TEST_SIGNING_SECRET, rejectBody, FORM, { timestamp: rejectAt })).status,
  ).toBe(200);

  const member = await newMember(world.keystone);
  const pin = ledger.newPin();
  const setpass = bot.bot.services.setpass!;
  const link = await setpass.issue(
    { userId: member.user.id, username: member.user.name },
    setpass.hashPin(pin),
  );
  ledger.add('the page token', tokenOf(link.url));
  ledger.add('a temporary password', (await setpass.tokens.current(member.user.id))?.temporaryPassword);
  ledger.add('a member password', member.password);
  const other = await newMember(world.keystone);
  const memberToken = (
    await anonymousClient().passwordLogin({
      userId: other.user.id,
      password: other.password,
      scope: { projectId: other.project.id },
    })
  ).token;
  const adminToken = await world.keystone.getAdminToken();
  ledger.add('a member token', memberToken);
  ledger.add('the admin token', adminToken);

  const approvedUser = await world.keystone.findUserByName(approved!.email, 'default');
  await ledger.addTemporaryPasswords(bot.env, [approvedUser?.id ?? '']);

  ctx = {
    world,
    ledger,
    bot,
    approved: {
      id: idOf(approved!.email),
      email: approved!.email,
      replay: { body: approveBody, timestamp: approveAt },
    },
    rejected: {
      id: idOf(rejected!.email),
      email: rejected!.email,
      replay: { body: rejectBody, timestamp: rejectAt },
    },
    pending: { id: idOf(pending!.email), email: pending!.email },
    member: { userId: member.user.id, username: member.user.name, token: tokenOf(link.url), pin },
    adminToken,
    memberToken,
  };
});

afterAll(async () => {
  redis?.disconnect();
  await ctx?.world.close();
  await mkdir('test/artifacts', { recursive: true });
  await writeFile(
    'test/artifacts/bad-input-catalog.json',
    `${JSON.stringify({ ...tally, groups: Object.fromEntries(groups) }, null, 2)}\n`,
  );
});

describe('the bad-input catalog', () => {
  it(`holds at least 60 inputs (${CATALOG.length}), and the README quotes how many`, () => {
    expect(CATALOG.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CATALOG.map((input) => `${input.group}: ${input.name}`)).size).toBe(CATALOG.length);
    const reliability = readFileSync('README.md', 'utf8').split('## Reliability')[1]?.split('\n## ')[0] ?? '';
    expect(reliability).toContain(`${CATALOG.length} bad inputs`);
  });

  it.each(CATALOG)('$group: $name', async (input) => {
    tally.tried += 1;
    const before = await takeState(redis, prefix, ctx.world.slack, TEST_ADMIN_CHANNEL);
    const answer = await input.send(ctx);

    expect(answer.status).toBe(input.expect.status);
    if (typeof input.expect.text === 'string') expect(answer.text).toContain(input.expect.text);
    else expect(answer.text).toMatch(input.expect.text);
    if (input.expect.not) expect(answer.text).not.toMatch(input.expect.not);
    expect(answer.text).not.toMatch(/\n\s+at |TypeError|ReferenceError|node_modules|\[object Object\]/);

    const after = await takeState(redis, prefix, ctx.world.slack, TEST_ADMIN_CHANNEL);
    const changes = changesBetween(before, after, [...(input.mayChange ?? []), SHEET_LAST_READ]);
    expect(changes.redis.join('\n'), 'Redis keys changed').toBe('');
    expect(changes.changedMessages.join('\n'), 'admin-channel messages changed').toBe('');
    expect(changes.newMessages, 'messages posted').toHaveLength(input.posts ?? 0);
    const absent = input.absent?.() ?? { projects: [], users: [] };
    for (const name of absent.projects.filter(Boolean)) {
      expect(await ctx.world.keystone.findProjectByName(name, 'default'), `project ${name}`).toBeUndefined();
    }
    for (const name of absent.users.filter(Boolean)) {
      expect(await ctx.world.keystone.findUserByName(name, 'default'), `user ${name}`).toBeUndefined();
    }
    tally.passed += 1;
  });

  it('leaves no token, PIN or password in Redis, the log or Slack', async () => {
    ledger.addMailedTokens(ctx.world.smtp);
    expect(ledger.size).toBeGreaterThan(10);
    const places = [
      await redisPlace(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix),
      ['the log', logs.text()] as [string, string],
      slackPlace(ctx.world.slack),
    ];
    expect(ledger.leaks(places)).toEqual([]);
  });
});
