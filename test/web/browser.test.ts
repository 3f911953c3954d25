/**
 * The password page in a real browser (Debian's chromium, driven by playwright-core): open the
 * emailed link, fill in the form, see the success page; Keystone then takes only the new password
 * and the link is dead. Screenshots of each page, desktop and phone, go to test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Setpass } from '../../src/domain/setpass/service.js';
import type { KeystoneClient } from '../../src/keystone/index.js';
import { passwordWorks, tokenOf } from '../domain/setpass/helpers.js';
import { adminClient, afterRevocationTick, newMember } from '../keystone/fixtures.js';
import { keystoneEnv, startTestBot, type TestBot, testEnv } from '../support/bot.js';

const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const PIN = '3917';
const PUBLIC_URL = 'https://register.kaizen.test';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

describe('the password page in a browser', () => {
  let running: TestBot;
  let setpass: Setpass;
  let keystone: KeystoneClient;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    running = await startTestBot(
      testEnv({
        ...keystoneEnv(inject('keystone')),
        SLACK_BOT_TOKEN: '',
        SLACK_SIGNING_SECRET: '',
        PUBLIC_URL,
        SUPPORT_EMAIL: 'help@kaizen.test',
        LOGIN_URL: 'https://cloud.kaizen.test/dashboard',
        GETTING_STARTED_URL: 'https://docs.kaizen.test/start',
        TERMS_URL: 'https://kaizen.test/terms',
        SETPASS_SITE_NAME: 'Kaizen Cloud',
      }),
    );
    setpass = running.bot.services.setpass!;
    keystone = adminClient();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-gpu',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.stop();
  });

  /**
   * A page that records what the browser refused: CSP violations and script errors. (A 4xx answer
   * is logged to the console too; those are expected here and the tests check the statuses.)
   */
  async function newPage(viewport: {
    width: number;
    height: number;
  }): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: viewport === PHONE ? 2 : 1 });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      const text = message.text();
      if (message.type() === 'error' && !text.startsWith('Failed to load resource')) problems.push(text);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return { page, problems };
  }

  async function memberWithLink() {
    const member = await newMember(keystone);
    const link = await setpass.issue(
      { userId: member.user.id, username: member.user.name },
      setpass.hashPin(PIN),
    );
    const temporary = (await setpass.tokens.current(member.user.id))!.temporaryPassword;
    return { member, url: `${running.url}/?token=${tokenOf(link.url)}`, temporary };
  }

  it('sets a password from the emailed link, and the link is dead afterwards', async () => {
    const { member, url, temporary } = await memberWithLink();
    const { page, problems } = await newPage(DESKTOP);

    await page.goto(url);
    await expect.poll(() => page.title()).toBe('Choose your password · Kaizen Cloud');
    expect(await page.inputValue('#username')).toBe(member.user.name);
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-form-desktop.png'), fullPage: true });

    // The page's own script runs (CSP allows it) and shows the live hints.
    await page.fill('#pin', PIN);
    await page.fill('#password', 'short');
    expect(await page.textContent('#password-meter')).toBe('5 of 12 characters');
    const chosen = 'Marble-Lantern-Orbit-5821';
    await page.fill('#password', chosen);
    await page.fill('#confirm_password', chosen);
    expect(await page.textContent('#confirm-meter')).toBe('✓ The passwords match');
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-form-filled-desktop.png'), fullPage: true });

    await Promise.all([page.waitForURL(`${running.url}/`), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).toBe('Your password is set');
    expect(await page.textContent('main')).toContain(member.user.name);
    expect(await page.getAttribute('a.button', 'href')).toBe('https://cloud.kaizen.test/dashboard');
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-success-desktop.png'), fullPage: true });
    expect(problems).toEqual([]);

    await afterRevocationTick();
    expect(await passwordWorks(keystone, member.user.id, chosen)).toBe(true);
    expect(await passwordWorks(keystone, member.user.id, temporary)).toBe(false);

    const again = await page.goto(url);
    expect(again?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('This link is no longer valid');
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-dead-desktop.png'), fullPage: true });
  });

  it('reads well on a phone, shows mistakes next to their fields, and works without JavaScript', async () => {
    const { member, url } = await memberWithLink();
    const { page, problems } = await newPage(PHONE);
    await page.context().route('**/assets/setpass.js', (route) => route.abort());
    await page.goto(url);
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-form-phone.png'), fullPage: true });
    // Nothing wider than the screen: no sideways scrolling on a phone.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      PHONE.width,
    );
    const inputHeight = (await page.locator('#password').boundingBox())?.height ?? 0;
    expect(inputHeight).toBeGreaterThanOrEqual(44);

    await page.fill('#pin', '0000');
    await page.fill('#password', 'Marble-Lantern-Orbit-5821');
    await page.fill('#confirm_password', 'Marble-Lantern-Orbit-5821');
    await Promise.all([page.waitForURL(`${running.url}/`), page.click('button[type=submit]')]);
    expect(await page.textContent('[role=alert] li')).toBe(
      'That PIN is not the one on file. 2 attempts left before this link is disabled.',
    );
    expect(await page.inputValue('#pin')).toBe('');
    expect(await page.inputValue('#password')).toBe('');
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-wrong-pin-phone.png'), fullPage: true });

    await page.fill('#pin', PIN);
    await page.fill('#password', 'Marble-Lantern-Orbit-5821');
    await page.fill('#confirm_password', 'Marble-Lantern-Orbit-5821');
    await Promise.all([page.waitForURL(`${running.url}/`), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).toBe('Your password is set');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      PHONE.width,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-success-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(await setpass.passwordSetAt(member.user.id)).toBeInstanceOf(Date);
  });
  it('with the box ticked, shows a clouds.yaml and downloads it as clouds.yaml', async () => {
    const { url } = await memberWithLink();
    const { page, problems } = await newPage(PHONE);
    await page.goto(url);
    await page.fill('#pin', PIN);
    await page.fill('#password', 'Copper-Meadow-Violin-7734');
    await page.fill('#confirm_password', 'Copper-Meadow-Violin-7734');
    await page.check('#create_app_credential');
    await Promise.all([page.waitForURL(`${running.url}/`), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).toBe('Your password is set');
    const shown = (await page.textContent('#clouds-yaml')) ?? '';
    expect(shown).toContain('auth_type: v3applicationcredential');
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      PHONE.width,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'setpass-clouds-yaml-phone.png'), fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#download-clouds-yaml'),
    ]);
    expect(download.suggestedFilename()).toBe('clouds.yaml');
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(shown);
    expect(problems).toEqual([]);
  });
});
