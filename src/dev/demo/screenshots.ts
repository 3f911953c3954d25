/**
 * `npm run screenshots`: runs the demo (with the same Redis and Keystone settings `npm run demo`
 * takes), walks one applicant from the form to a chosen password in Chromium, and writes the
 * README's pictures to docs/: the demo page, the card, the quota modal, the approved card, the
 * email and the password page.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Locator, type Page } from 'playwright-core';
import { DemoProcess } from './demo-process.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const docs = join(repoRoot, 'docs');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const say = (line: string) => process.stderr.write(`screenshots: ${line}\n`);

/** Waits until `check` passes; the demo page reloads itself when the bot changed something. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const textOf = async (locator: Locator) => ((await locator.textContent({ timeout: 1000 })) ?? '').trim();

async function shoot(target: Page | Locator, name: string): Promise<void> {
  const path = join(docs, name);
  await target.screenshot({ path, animations: 'disabled' });
  say(`wrote docs/${name}`);
}

async function main(): Promise<void> {
  mkdirSync(docs, { recursive: true });
  const stateDir = mkdtempSync(join(tmpdir(), 'kaizen-screenshots-'));
  say('starting the demo…');
  const demo = await DemoProcess.start(stateDir, process.env);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    const url = demo.url ?? '';
    const tag = randomBytes(3).toString('hex');
    const email = `ann.lee-${tag}@example.org`;
    await page.goto(url);
    await page.fill('#f-email', email);
    await page.fill('#f-pin', '4821');
    await page.fill('#f-newProjectName', `lee-lab-${tag}`);
    await page.click('#application-form button[type=submit]');
    await page.click('#sync-now');
    const card = page.locator('#channel-pane article.message', { hasText: email });
    await until('the card', async () => (await card.count()) === 1);
    await shoot(page, 'demo-page.png');
    await shoot(card, 'demo-card.png');

    await card.locator('button', { hasText: 'Quota' }).click();
    const dialog = page.locator('dialog.modal');
    await until('the quota modal', async () => (await dialog.count()) === 1);
    await dialog.locator('select[name="quota_preset/preset"]').selectOption('medium');
    await shoot(dialog, 'demo-quota-modal.png');
    await dialog.locator('footer button.primary').click();
    await until('the medium quota on the card', async () => (await textOf(card)).includes('Quota: medium'));

    await card.locator('button', { hasText: 'Approve' }).click();
    await until('the approved card', async () => (await textOf(card)).includes('Approved by'));
    await shoot(card, 'demo-approved-card.png');

    const mail = page.locator('#mail-pane li', { hasText: email });
    await until('the email', async () => (await mail.count()) === 1);
    await mail.locator('a').click();
    await page.setViewportSize({ width: 760, height: 900 });
    await shoot(page, 'demo-email.png');

    await Promise.all([
      page.waitForURL(/\?token=/),
      page.frameLocator('iframe').locator('a[href*="?token="]').first().click(),
    ]);
    await page.fill('#pin', '4821');
    const chosen = `Harbor-Violet-${tag}-73`;
    await page.fill('#password', chosen);
    await page.fill('#confirm_password', chosen);
    await shoot(page, 'demo-password-page.png');
  } finally {
    await browser.close();
    await demo.interrupt();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  say(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
