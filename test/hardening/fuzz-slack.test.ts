/**
 * Property-based fuzzing of the Slack surface: correctly signed requests (so they pass Bolt's
 * check and reach the listeners) of every kind the bot handles — each button's action id, each
 * modal's callback id, `/kaizen` with every subcommand, App Home events — plus unknown ones, with
 * fields mutated (missing, null, wrong types, oversized, hostile text). Nothing generated is a valid
 * request to change anything: the users and projects named are made up, and a real applicant id
 * appears only in the hands of someone who is not an admin. Properties: no 5xx, no stack trace in
 * any answer or in anything posted to Slack; the bot stays healthy; Redis under its prefix changes
 * only by audit lines and the marks of handled requests; Keystone gets none of the names.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_1,
  ADMIN_2,
  applicantWithCard,
  type Harness,
  OUTSIDER,
  setApplications,
  startHarness,
} from '../approval/harness.js';
import { TEST_ADMIN_CHANNEL, TEST_SIGNING_SECRET, type TestBot, uniquePrefix } from '../support/bot.js';
import { dumpRedis } from '../support/redis-dump.js';
import {
  blockActionPayload,
  payloadBody,
  type SlackHttpResult,
  sendSigned,
  slashCommandBody,
  TEST_APP_ID,
  TEST_TEAM_ID,
  TEST_VERIFICATION_TOKEN,
  viewSubmissionPayload,
} from '../support/slack-sign.js';
import { fuzzParameters, fuzzRuns, fuzzTimeout, reportCases } from './fuzz-settings.js';
import { LEAK } from './raw-http.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const FORM = 'application/x-www-form-urlencoded';
/**
 * Property runs in CI; each sends a batch of 6 to 12 requests at once. Batches, because a request
 * no listener takes is answered only when Bolt gives up on it (its 2.9 s deadline).
 */
const RUNS = fuzzRuns(6);
/** What an invalid request may leave: the audit line of a refusal, and the mark of a handled request. */
const MAY_CHANGE = /^(?:audit$|slack:seen:)/;
const PENDING = 'PENDING_APPLICANT';

let world: Harness;
let bot: TestBot;
let prefix: string;
let inspector: Redis;
let pendingId: string;
/** Made-up names the fuzz sent; none may exist in Keystone afterwards. */
const namesSent = new Set<string>();

beforeAll(async () => {
  world = await startHarness('fuzzslack');
  prefix = uniquePrefix('fuzz-slack');
  bot = await world.start(prefix);
  pendingId = (await applicantWithCard(world, bot, 'fuzz-pending')).id;
  // `/kaizen sync` finds the header and nothing new.
  setApplications(world.sheets, []);
  inspector = new Redis(REDIS_URL);
}, 120_000);

afterAll(async () => {
  inspector?.disconnect();
  await world?.close();
});

// ── Generators ────────────────────────────────────────────────────────────────────────────────

const madeUpName = fc.stringMatching(/^fz[a-z0-9]{6,10}$/).map((name) => {
  namesSent.add(name);
  return name;
});
const madeUpEmail = madeUpName.map((name) => {
  namesSent.add(`${name}@fuzz.invalid`);
  return `${name}@fuzz.invalid`;
});
const hostile = fc.constantFrom(
  '<!channel>',
  '<!here|here>',
  '*bold* _it_ `code` ```block```',
  '<https://evil.example|click>',
  '<@U0ADMIN1>',
  '=HYPERLINK("https://evil.example")',
  '\u0000\u0007\u001b[31m',
  '\u202eevil',
  '../../etc/passwd',
  '{"__proto__":{"x":1}}',
  'constructor',
  '__proto__',
  '%FF%00',
  'null',
  'undefined',
);
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: hostile },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.integer({ min: 3_000, max: 40_000 }).map((n) => 'x'.repeat(n)) },
);
const user = fc.constantFrom(ADMIN_1, ADMIN_2, OUTSIDER, 'U0FUZZ', '', 'W0GUEST');
/** A value that is never a real applicant id, or the real one when `user` is not an admin. */
const value = (who: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.oneof(madeUpName, text, fc.constant('')) },
    { weight: who === OUTSIDER ? 2 : 0, arbitrary: fc.constant(PENDING) },
  );

const argument = fc.oneof(
  madeUpEmail,
  madeUpName,
  fc.constantFrom(
    '<@U0FUZZ|fuzz>',
    '<@U0FUZZ>',
    '<#C0FUZZ|general>',
    '<mailto:a@fuzz.invalid|a@fuzz.invalid>',
  ),
  fc.constantFrom(
    '--yes',
    '--all',
    '-f',
    'small',
    'medium',
    'large',
    'cores=99999',
    'ram=-1',
    'x=y',
    'instances=1e9',
  ),
  text,
);
const subcommand = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('reset', 'status', 'resend', 'pending', 'sync', 'quota', 'help') },
  { weight: 1, arbitrary: fc.constantFrom('RESET', 'Status', 'rEsEnD', 'QUOTA') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const commandText = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(subcommand, fc.array(argument, { maxLength: 3 }))
      .map(([sub, args]) => [sub, ...args].join(' ')),
  },
  { weight: 1, arbitrary: text },
);

/** A field of a payload replaced by something it should never be, or removed. */
const mutation = fc.record({
  pick: fc.nat(),
  depth: fc.boolean(),
  to: fc.constantFrom<unknown>(
    null,
    0,
    -1,
    [],
    {},
    '',
    true,
    'x'.repeat(5_000),
    '<!channel>',
    { type: 'x' },
    undefined,
  ),
});

function mutate(
  payload: Record<string, unknown>,
  edits: readonly { pick: number; depth: boolean; to: unknown }[],
) {
  const copy = structuredClone(payload);
  for (const edit of edits) {
    let node: Record<string, unknown> = copy;
    let keysHere = Object.keys(node);
    if (edit.depth) {
      const nested = keysHere.filter((key) => node[key] !== null && typeof node[key] === 'object');
      if (nested.length > 0) {
        const inner = node[nested[edit.pick % nested.length]!];
        node = (Array.isArray(inner) ? (inner[0] ?? {}) : inner) as Record<string, unknown>;
        keysHere = Object.keys(node);
      }
    }
    if (keysHere.length === 0) continue;
    const key = keysHere[edit.pick % keysHere.length]!;
    if (edit.to === undefined) delete node[key];
    else node[key] = edit.to;
  }
  return copy;
}

const ACTIONS = [
  'applicant_approve',
  'applicant_quota',
  'applicant_reject',
  'applicant_retry',
  'kaizen_reset_confirm',
  'kaizen_reset_cancel',
  'quota_request_approve',
  'quota_request_adjust',
  'quota_request_reject',
  'quota_request_retry',
  'quota_request_revert',
  'kaizen_quota_apply',
  'kaizen_quota_cancel',
];
const CALLBACKS = [
  'applicant_quota_modal',
  'applicant_reject_modal',
  'kaizen_reset_pin',
  'quota_request_adjust_modal',
  'quota_request_reject_modal',
];

/** One signed request: its body as sent, readable in a counterexample. */
interface Signed {
  kind: string;
  body: string;
  contentType: string;
}
/** Bolt answers every request within its 2.9 s deadline; one with no answer by this is hung. */
const ANSWER_WITHIN_MS = 10_000;
const send = async (request: Signed): Promise<SlackHttpResult> => {
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
  });
  try {
    return await Promise.race([
      sendSigned(bot.eventsUrl, TEST_SIGNING_SECRET, request.body, request.contentType),
      unanswered,
    ]);
  } finally {
    clearTimeout(timer);
  }
};

const slash: fc.Arbitrary<Signed> = fc
  .record({
    who: user,
    text: commandText,
    command: fc.oneof(
      { weight: 9, arbitrary: fc.constant('/kaizen') },
      { weight: 1, arbitrary: fc.constantFrom('/other', '', '/KAIZEN') },
    ),
    drop: fc.subarray(['channel_id', 'user_name', 'team_id', 'trigger_id', 'api_app_id', 'text']),
  })
  .map((input) => {
    const form = new URLSearchParams(
      slashCommandBody({
        text: input.text,
        user_id: input.who,
        command: input.command,
        response_url: world.slack.responseUrl(randomBytes(4).toString('hex')),
      }),
    );
    for (const field of input.drop) form.delete(field);
    return { kind: 'command', body: form.toString(), contentType: FORM };
  });

const click: fc.Arbitrary<Signed> = user.chain((who) =>
  fc
    .record({
      actionId: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...ACTIONS) },
        { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
      ),
      value: value(who),
      blockId: fc.oneof(
        fc.constantFrom('applicant_actions', 'kaizen_reset', 'actions'),
        fc.string({ maxLength: 10 }),
      ),
      onMessage: fc.boolean(),
      edits: fc.array(mutation, { maxLength: 2 }),
    })
    .map((input) => {
      const payload = blockActionPayload({
        user: who,
        actionId: input.actionId,
        value: input.value === PENDING ? pendingId : input.value,
        blockId: input.blockId,
        response_url: world.slack.responseUrl(randomBytes(4).toString('hex')),
        ...(input.onMessage ? { message: { channel: TEST_ADMIN_CHANNEL, ts: '1.000001' } } : {}),
      });
      return { kind: 'action', body: payloadBody(mutate(payload, input.edits)), contentType: FORM };
    }),
);

const stateValue = fc.oneof(
  text,
  fc.record({
    type: fc.constantFrom('static_select', 'checkboxes', 'plain_text_input', 'x'),
    selected_option: fc.oneof(fc.constant(null), fc.record({ value: text })),
  }),
  fc.record({
    type: fc.constant('checkboxes'),
    selected_options: fc.array(fc.record({ value: text }), { maxLength: 3 }),
  }),
);
const submission: fc.Arbitrary<Signed> = user.chain((who) =>
  fc
    .record({
      callbackId: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...CALLBACKS) },
        { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
      ),
      metadata: fc.oneof(value(who), fc.json({ maxDepth: 2 })),
      values: fc.dictionary(
        fc.oneof(
          fc.constantFrom('reject_reason', 'reject_notify', 'quota_preset', 'quota_values', 'pin'),
          fc.string({ maxLength: 8 }),
        ),
        fc.dictionary(
          fc.oneof(
            fc.constantFrom('reason', 'notify', 'preset', 'values', 'pin'),
            fc.string({ maxLength: 8 }),
          ),
          stateValue,
          { maxKeys: 2 },
        ),
        { maxKeys: 3 },
      ),
      edits: fc.array(mutation, { maxLength: 2 }),
    })
    .map((input) => {
      const payload = viewSubmissionPayload({
        user: who,
        callbackId: input.callbackId,
        privateMetadata: input.metadata === PENDING ? pendingId : input.metadata,
        values: input.values as Parameters<typeof viewSubmissionPayload>[0]['values'],
      });
      return { kind: 'view', body: payloadBody(mutate(payload, input.edits)), contentType: FORM };
    }),
);

const event: fc.Arbitrary<Signed> = fc
  .record({
    type: fc.oneof(
      { weight: 3, arbitrary: fc.constant('app_home_opened') },
      { weight: 1, arbitrary: fc.constantFrom('message', 'member_joined_channel', 'x') },
    ),
    who: user,
    tab: fc.constantFrom('home', 'messages', '', 'x'),
  })
  .map((input) => ({
    kind: 'event',
    // The Events API envelope, as Slack delivers it.
    body: JSON.stringify({
      token: TEST_VERIFICATION_TOKEN,
      team_id: TEST_TEAM_ID,
      api_app_id: TEST_APP_ID,
      type: 'event_callback',
      event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      event: { type: input.type, user: input.who, tab: input.tab, channel: 'D0FUZZ', event_ts: '1.000001' },
    }),
    contentType: 'application/json',
  }));

/** Signed bodies that are not what Slack sends at all. */
const oddBody: fc.Arbitrary<Signed> = fc
  .record({
    body: fc.oneof(
      fc.json({ maxDepth: 3 }).map((json) => `payload=${encodeURIComponent(json)}`),
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
    ),
    type: fc.constantFrom(FORM, 'application/json', 'text/plain'),
  })
  .map((input) => ({ kind: 'odd', body: input.body, contentType: input.type }));

const batch = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: slash },
    { weight: 3, arbitrary: click },
    { weight: 2, arbitrary: submission },
    { weight: 1, arbitrary: event },
    { weight: 1, arbitrary: oddBody },
  ),
  { minLength: 6, maxLength: 12 },
);

/** Everything the bot said in Slack since the counts in `since`, as text. */
function saidSince(since: { responses: number; ephemerals: number; messages: number }): string {
  const slack = world.slack;
  return [
    ...slack.responses.slice(since.responses).map((post) => JSON.stringify(post.body)),
    ...slack
      .ephemerals()
      .slice(since.ephemerals)
      .map((message) => JSON.stringify([message.text, message.blocks])),
    ...slack
      .messages(TEST_ADMIN_CHANNEL)
      .slice(since.messages)
      .map((message) => JSON.stringify([message.text, message.blocks])),
  ].join('\n');
}

async function snapshot(): Promise<Map<string, string>> {
  const stored = await dumpRedis(inspector, prefix);
  return new Map([...stored].filter(([key]) => !MAY_CHANGE.test(key.slice(prefix.length))));
}

describe('Slack fuzzing, signed requests', () => {
  it(
    `answers ${RUNS} batches of random signed requests without a 5xx, a stack trace or a change`,
    async () => {
      const before = await snapshot();
      const statuses = new Map<number, number>();
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(batch, async (requests) => {
          const since = {
            responses: world.slack.responses.length,
            ephemerals: world.slack.ephemerals().length,
            messages: world.slack.messages(TEST_ADMIN_CHANNEL).length,
          };
          const answers = await Promise.all(requests.map(send));
          cases += requests.length;
          for (const answer of answers) {
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            expect(answer.status, answer.text).toBeLessThan(500);
            expect(answer.text).not.toMatch(LEAK);
          }
          expect(saidSince(since)).not.toMatch(LEAK);
        }),
        fuzzParameters(RUNS),
      );
      reportCases(
        'signed Slack requests (actions, modals, /kaizen, events)',
        cases,
        `answers ${[...statuses]
          .sort()
          .map(([status, count]) => `${status}×${count}`)
          .join(' ')}`,
      );

      expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
      expect(await snapshot()).toEqual(before);
      for (const name of [...namesSent].slice(0, 15)) {
        expect(await world.keystone.findUserByName(name, 'default'), name).toBeUndefined();
        expect(await world.keystone.findProjectByName(name, 'default'), name).toBeUndefined();
      }
    },
    fuzzTimeout(RUNS * 3, 1_000),
  );
});
