/**
 * `npm run demo` driven in a browser as a person would: fill in the form, see the card, pick a
 * quota, approve, open the email, choose a password, and log in to Keystone with it. Then a
 * non-admin's click is refused on screen, a rejection shows its reason on the card, a second start
 * reuses the running demo, and Ctrl-C leaves no process and no Redis key behind.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DemoProcess } from '../../src/dev/demo/demo-process.js';
import { freePort } from '../../src/dev/local-http.js';
import { KeystoneClient } from '../../src/keystone/index.js';
import { keystoneAdmin } from '../support/provided.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** How long the page may take to show what the bot did (the page reloads when something changes). */
const WAIT = { timeout: 15_000 };

let demo: DemoProcess;
let browser: Browser;
let page: Page;
let stateDir: string;
/** The applicant the first test takes all the way, for the tests that need an approved user. */
let approvedEmail = '';

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'kaizen-demo-test-'));
  demo = await DemoProcess.start(stateDir, demoEnv(), ['--watch']);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** The demo's settings: the tests' Redis, and the shared Keystone as the tests' TEST_OS_* name it. */
function demoEnv(): NodeJS.ProcessEnv {
  const keystone = inject('keystone');
  return {
    REDIS_URL: inject('redisUrl'),
    TEST_OS_AUTH_URL: keystone.authUrl,
    TEST_OS_USERNAME: keystone.username,
    TEST_OS_PASSWORD: keystone.password,
    TEST_OS_PROJECT_NAME: keystone.projectName,
    TEST_OS_USER_DOMAIN_NAME: keystone.userDomainName,
    TEST_OS_PROJECT_DOMAIN_NAME: keystone.projectDomainName,
  };
}

function applicant(label: string) {
  const tag = randomBytes(4).toString('hex');
  return { email: `${label}-${tag}@example.org`, project: `${label}-lab-${tag}` };
}

/** Fills in and sends the application form, then asks the bot to read the sheet now. */
async function apply(who: { email: string; project: string }): Promise<Locator> {
  await page.goto(demo.url ?? '');
  await page.fill('#f-email', who.email);
  await page.fill('#f-firstName', 'Ann');
  await page.fill('#f-lastName', 'Lee');
  await page.fill('#f-pin', '4821');
  await page.fill('#f-newProjectName', who.project);
  await page.click('#application-form button[type=submit]');
  await expect.poll(() => textOf(page.locator('.flash')), WAIT).toContain(`Added ${who.email}'s application`);
  await page.click('#sync-now');
  const card = page.locator('#channel-pane article.message', { hasText: who.email });
  await card.waitFor({ timeout: 20_000 });
  return card;
}

async function actAs(name: RegExp): Promise<void> {
  const option = await page.locator('#actor option', { hasText: name }).getAttribute('value');
  await page.selectOption('#actor', option ?? '');
  await page.click('form.actor button');
}

describe('npm run demo', () => {
  it('prints one URL and uses the shared Keystone and the running Redis', () => {
    expect(demo.stdout.trim().split('\n')).toEqual([demo.url]);
    expect(demo.stderr).toContain(`using Keystone at ${inject('keystone').authUrl}`);
    expect(demo.stderr).toContain('reusing Redis');
    expect(demo.state().started).toEqual({});
  });

  it('takes an applicant from the form to a chosen password that Keystone accepts', async () => {
    const who = applicant('ann');
    approvedEmail = who.email;
    const card = await apply(who);
    await expect.poll(() => buttonsOf(card), WAIT).toEqual(['Approve', 'Quota', 'Reject']);

    await card.locator('button', { hasText: 'Quota' }).click();
    const dialog = page.locator('dialog.modal');
    await dialog.waitFor({ timeout: 10_000 });
    await expect.poll(() => textOf(dialog.locator('h2')), WAIT).toBe('Quota');
    // A value the bot refuses comes back as `response_action: errors`, shown next to its field
    // (the browser's own checks are off so the bot gets to see it).
    await dialog.locator('form').evaluate((form) => form.setAttribute('novalidate', ''));
    await dialog.locator('input[name="quota_instances/value"]').fill('2.5');
    await dialog.locator('footer button.primary').click();
    const instances = page.locator('dialog.modal [data-block="quota_instances"] .bk-error');
    await expect.poll(() => textOf(instances), WAIT).toBe('Enter a whole number, or -1 for unlimited');
    await dialog.locator('input[name="quota_instances/value"]').fill('');
    await dialog.locator('select[name="quota_preset/preset"]').selectOption('medium');
    await dialog.locator('footer button.primary').click();
    await expect.poll(() => page.locator('dialog.modal').count(), WAIT).toBe(0);
    await expect.poll(() => textOf(card), { timeout: 10_000 }).toContain('Quota: medium');

    await card.locator('button', { hasText: 'Approve' }).click();
    await expect.poll(() => textOf(card), { timeout: 30_000 }).toContain('Approved by @Ada');
    await expect.poll(() => card.locator('button').count(), WAIT).toBe(0);

    const mail = page.locator('#mail-pane li', { hasText: who.email });
    await mail.waitFor({ timeout: 20_000 });
    await mail.locator('a').click();
    await expect.poll(() => textOf(page.locator('.headers dl')), WAIT).toContain(who.email);
    const link = page.frameLocator('iframe').locator('a[href*="?token="]').first();
    await Promise.all([page.waitForURL(/\?token=/), link.click()]);
    await expect.poll(() => textOf(page.locator('h1')), WAIT).toMatch(/Choose your password/);
    const chosen = `Harbor-Violet-${randomBytes(3).toString('hex')}-73`;
    await page.fill('#pin', '4821');
    await page.fill('#password', chosen);
    await page.fill('#confirm_password', chosen);
    await page.click('button[type=submit]');
    await expect.poll(() => textOf(page.locator('h1')), WAIT).toBe('Your password is set');

    const provided = inject('keystone');
    const keystone = new KeystoneClient({ authUrl: provided.authUrl });
    const token = await keystone.passwordLogin({ username: who.email, password: chosen, scope: 'unscoped' });
    expect(token.token).not.toBe('');
    const admin = keystoneAdmin(provided);
    const project = await admin.findProjectByName(who.project, 'default');
    expect(project).toBeDefined();

    // Keystone's pane reads what the approval made, live.
    await page.goto(demo.url ?? '');
    const row = page.locator('#keystone-pane tr', { hasText: who.email });
    await expect.poll(() => textOf(row), WAIT).toContain(project?.id ?? 'a project id');
    await expect.poll(() => textOf(row), WAIT).toContain('member');
  });

  it('resets a password from /kaizen: the confirmation only the admin sees turns into the outcome', async () => {
    const who = approvedEmail;
    await page.goto(demo.url ?? '');
    await page.fill('#command', `reset ${who}`);
    await page.click('form.slash button');
    const confirmation = page.locator('#channel-pane article.ephemeral', {
      hasText: `Reset the password of ${who}?`,
    });
    await expect.poll(() => buttonsOf(confirmation), WAIT).toEqual(['Reset', 'Cancel']);
    await confirmation.locator('button', { hasText: 'Reset' }).click();
    const outcome = page.locator('#channel-pane article.ephemeral', { hasText: `Password reset for` });
    await expect.poll(() => textOf(outcome), WAIT).toContain('the old password no longer works');
    await expect.poll(() => confirmation.count(), WAIT).toBe(0);
    const mails = page.locator('#mail-pane li', { hasText: who });
    await expect.poll(() => mails.count(), WAIT).toBe(2);
  });

  it("refuses a non-admin's click on screen, and the card keeps its buttons", async () => {
    const who = applicant('nick');
    await apply(who);
    await actAs(/not an admin/);
    const card = page.locator('#channel-pane article.message', { hasText: who.email });
    await card.locator('button', { hasText: 'Approve' }).click();
    const refusal = page.locator('#channel-pane article.ephemeral', {
      hasText: "You're not allowed to do that",
    });
    await refusal.last().waitFor({ timeout: 10_000 });
    await expect.poll(() => textOf(refusal.last()), WAIT).toContain('Only visible to you');
    await expect.poll(() => buttonsOf(card), WAIT).toEqual(['Approve', 'Quota', 'Reject']);
    await actAs(/Ada/);
  });

  it('shows a rejection and its reason on the card', async () => {
    const who = applicant('rita');
    const card = await apply(who);
    await card.locator('button', { hasText: 'Reject' }).click();
    const dialog = page.locator('dialog.modal');
    await dialog.waitFor({ timeout: 10_000 });
    await dialog
      .locator('textarea, input[type=text]')
      .first()
      .fill('No sponsor has vouched for this project.');
    await dialog.locator('footer button.primary').click();
    await expect.poll(() => textOf(card), { timeout: 20_000 }).toContain('Rejected by @Ada');
    await expect.poll(() => textOf(card), WAIT).toContain('No sponsor has vouched for this project.');
    await expect.poll(() => card.locator('button').count(), WAIT).toBe(0);
  });

  it('with --watch, a changed source file restarts the bot, which answers again', async () => {
    const before = demo.state().botPid;
    // A save that changes nothing: only the file's time moves, as an editor's save would move it.
    const now = new Date();
    utimesSync('src/platform/version.ts', now, now);
    await expect.poll(() => demo.stderr, { timeout: 150_000, interval: 500 }).toMatch(/running the new code/);
    expect(demo.state().botPid).not.toBe(before);
    expect(alive(before ?? 0)).toBe(false);

    await page.goto(demo.url ?? '');
    await page.fill('#command', 'help');
    await page.click('form.slash button');
    const help = page.locator('#channel-pane article.ephemeral', { hasText: '/kaizen reset' });
    await expect.poll(() => help.count(), WAIT).toBeGreaterThan(0);
  }, 180_000);

  it('a second start reuses the running demo', async () => {
    const second = await DemoProcess.start(demo.stateDir, demoEnv());
    expect(await second.exited()).toBe(0);
    expect(second.url).toBe(demo.url);
    expect(second.stderr).toContain('already running');
  });

  it('Ctrl-C stops everything it started and leaves no process or Redis key behind', async () => {
    const state = demo.state();
    expect(state.botPid).toBeGreaterThan(0);
    const pids = [state.pid, state.botPid ?? 0, ...Object.values(state.started)];
    for (const pid of pids) expect(alive(pid)).toBe(true);
    expect(await demo.interrupt()).toBe(0);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(groupAlive(demo.child.pid ?? 0)).toBe(false);
    const redis = new Redis(inject('redisUrl'));
    try {
      expect(await redis.keys(`${state.redisPrefix}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    await expect(fetch(state.url)).rejects.toThrow();
  });
});

describe('npm run demo without a Redis', () => {
  it('starts redis-server for itself and stops it, by pid, on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kaizen-demo-redis-'));
    const port = await freePort();
    const own = await DemoProcess.start(dir, { ...demoEnv(), REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      const redisPid = own.state().started.redis;
      expect(redisPid).toBeGreaterThan(0);
      expect(own.stderr).toContain(`started redis-server on port ${port} (pid ${redisPid})`);
      expect(alive(redisPid ?? 0)).toBe(true);
      expect(await own.interrupt()).toBe(0);
      expect(alive(redisPid ?? 0)).toBe(false);
      expect(groupAlive(own.child.pid ?? 0)).toBe(false);
    } finally {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

/** The text of an element, '' while it is missing (the page reloads when the demo changes). */
async function textOf(locator: Locator): Promise<string> {
  try {
    return ((await locator.textContent({ timeout: 1_000 })) ?? '').trim();
  } catch {
    return '';
  }
}

async function buttonsOf(card: Locator): Promise<string[]> {
  try {
    return (await card.locator('button').allTextContents()).map((text) => text.trim());
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group is left (npm's, tsx's, the demo's and the bot's). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
