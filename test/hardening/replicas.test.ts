/**
 * Three bot processes on one Redis (one REDIS_KEY_PREFIX: one deployment), and admins clicking
 * Approve 50 times at once on the same applicants, the clicks spread over all three: each
 * applicant is provisioned once, by one run, and everyone else is told who is approving.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationStore } from '../../src/domain/applications/store.js';
import { Audit } from '../../src/domain/audit/audit.js';
import type { Env } from '../../src/platform/config/config.js';
import {
  ADMIN_1,
  ADMIN_2,
  ADMITTED_TAB,
  buttonsOf,
  cardOf,
  click,
  type Harness,
  setApplications,
  startHarness,
  textOf,
  uniqueApplicant,
  waitForApproved,
} from '../approval/harness.js';
import { TEST_ADMIN_CHANNEL, TEST_SIGNING_SECRET, uniquePrefix } from '../support/bot.js';
import { type BotProcess, BotProcesses } from '../support/bot-process.js';
import { sendSlashCommand } from '../support/slack-sign.js';
import { type Place, redisPlace, SecretLedger, slackPlace } from './secret-scan.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const APPLICANTS = 5;
const CLICKS = 50;

const processes = new BotProcesses();
const ledger = new SecretLedger();
let world: Harness;
let prefix: string;
let replicas: BotProcess[];
let env: Env;
const userIds: string[] = [];

beforeAll(async () => {
  world = await startHarness('replicas');
  prefix = uniquePrefix('replicas');
  env = world.env(prefix, { LOG_LEVEL: 'info' });
  ledger.addSettings(env);
  replicas = await Promise.all([0, 1, 2].map(() => processes.start(env)));
});
afterAll(async () => {
  await processes.killAll();
  await world?.close();
});

describe('three replicas, one Redis', () => {
  it('50 concurrent clicks on five applicants, spread over the three: one provisioning each', async () => {
    const people = Array.from({ length: APPLICANTS }, (_, i) =>
      uniqueApplicant(`replica${i}`, { pin: ledger.newPin() }),
    );
    setApplications(
      world.sheets,
      people.map((who) => who.cells),
    );
    const synced = await sendSlashCommand(replicas[1]!.eventsUrl, TEST_SIGNING_SECRET, {
      text: 'sync',
      user_id: ADMIN_1,
      response_url: world.slack.responseUrl(randomBytes(4).toString('hex')),
    });
    expect(synced.status).toBe(200);
    const cards = await world.slack.waitFor(
      () =>
        world.slack.messages(TEST_ADMIN_CHANNEL).length >= APPLICANTS
          ? people.map((who) => structuredClone(cardOf(world.slack, who.email)))
          : undefined,
      30_000,
      'the five cards',
    );
    const before = world.slack.ephemerals().length;

    const acks = await Promise.all(
      Array.from({ length: CLICKS }, (_, i) =>
        click(replicas[i % 3]!, cards[i % APPLICANTS]!, i % 2 === 0 ? ADMIN_1 : ADMIN_2, 'applicant_approve'),
      ),
    );
    expect(acks.map((ack) => ack.status)).toEqual(Array(CLICKS).fill(200));
    // A deadline for background work on a shared, one-threaded test Keystone, not a speed target.
    await waitForApproved(world.slack, cards, 150_000, 'every card approved');
    await world.smtp.waitForMessages(APPLICANTS, 30_000);

    // Everyone but the winner of each applicant heard who is approving (or that it is done).
    const told = world.slack.ephemerals().slice(before);
    expect(told).toHaveLength(CLICKS - APPLICANTS);
    for (const message of told) {
      expect(message.text).toMatch(
        /^This applicant (is already being approved by|was already approved by) <@U0ADMIN[12]>(\.|; the card now shows it\.)$/,
      );
    }

    const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
    try {
      const store = new ApplicationStore(redis);
      const audit = new Audit(redis, 10_000);
      for (const [i, who] of people.entries()) {
        const id = buttonsOf(cards[i]!)[0]?.value ?? '';
        const record = await store.get(id);
        expect(record?.state).toBe('notified');
        const project = await world.keystone.findProjectByName(who.project, 'default');
        const user = await world.keystone.findUserByName(who.email, 'default');
        expect(record?.checkpoints).toMatchObject({ project: project?.id, user: user?.id });
        userIds.push(user?.id ?? '');
        const runs = (await audit.read({ subject: id, limit: 100 })).filter(
          (entry) => entry.action === 'provision.project',
        );
        expect(runs).toHaveLength(1);
        expect(
          (await world.keystone.listRoleAssignments({ userId: user?.id, projectId: project?.id })).map(
            (assignment) => assignment.roleName,
          ),
        ).toEqual(['member']);
        const quotaPuts = world.recorder.calls.filter(
          (call) => call.method === 'PUT' && call.projectId === project?.id,
        );
        expect(quotaPuts.map((call) => call.service).sort()).toEqual(['compute', 'network', 'volumev3']);
        expect(world.smtp.messages.filter((mail) => mail.to.includes(who.email))).toHaveLength(1);
        expect(
          (world.sheets.tab(ADMITTED_TAB) ?? []).filter((cells) => cells.includes(who.email)),
        ).toHaveLength(1);
        const winner = textOf(cardOf(world.slack, who.email)).match(/Approved by <@(U0ADMIN[12])>/)?.[1];
        expect(winner).toBe(record?.decidedBy);
      }
    } finally {
      redis.disconnect();
    }
    expect(replicas.every((replica) => replica.alive)).toBe(true);
  }, 240_000);

  it('leaves no token, PIN or password in Redis, the three logs or Slack', async () => {
    ledger.addMailedTokens(world.smtp);
    await ledger.addTemporaryPasswords(env, userIds);
    expect(ledger.size).toBeGreaterThan(13);
    const places: Place[] = [await redisPlace(REDIS_URL, prefix), slackPlace(world.slack)];
    for (const replica of replicas)
      places.push([`the log of process ${replica.child.pid}`, replica.output()]);
    expect(ledger.leaks(places)).toEqual([]);
  });
});
