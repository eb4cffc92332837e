// One real browser: Debian's headless Chromium driven by playwright-core opens a protected page behind the
// proxy (`login: redirect`), is sent to the login page, signs in with the keyboard, lands back on the page
// and sees the echo upstream's identity headers. Screenshot: test-artifacts/browser-login.png (git-ignored).
// Skipped only when /usr/bin/chromium is absent (CI installs it: scripts/ci-system-deps.sh).
import { existsSync, mkdirSync } from 'node:fs';
import t from 'tap';
import { chromium } from 'playwright-core';
import { registerAndLogin } from '../helpers/app.js';
import { startOidcApp } from './oidc-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

t.test('browser login through the proxy in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` }, async (t) => {
  const app = await startOidcApp();
  t.teardown(() => app.close());
  const user = await registerAndLogin(app.url);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  t.teardown(() => browser.close());
  const page = await browser.newPage();

  await page.goto(`${app.url}/app/dashboard?tab=orders`);
  t.equal(new URL(page.url()).pathname, '/oauth2/login', 'redirected to the login page');
  t.equal(await page.title(), 'Sign in – authgate');
  // Keyboard only: the email field has focus on arrival (WCAG: focus order).
  t.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id), 'email');

  await page.keyboard.type(user.email);
  await page.getByLabel('Password').fill('not the password');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  t.equal(await page.getByRole('alert').count(), 1, 'the error is announced');
  t.match(await page.getByRole('alert').innerText(), /incorrect/, 'wrong password, not a CSRF refusal');
  t.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id), 'error-summary', 'focus moves to the error');

  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await Promise.all([page.waitForURL(`${app.url}/app/dashboard?tab=orders`), page.getByRole('button', { name: 'Sign in' }).click()]);
  t.equal(new URL(page.url()).pathname, '/app/dashboard', 'back on the protected page');

  const echoed = JSON.parse((await page.locator('body').innerText()).trim()) as { headers: Record<string, string> };
  t.equal(echoed.headers['x-auth-user-id'], user.userId, 'upstream saw the user id');
  t.equal(echoed.headers['x-auth-email'], user.email, 'upstream saw the email');
  t.notOk(echoed.headers.cookie?.includes('authgate_session'), 'session cookie not forwarded');

  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'authgate_session');
  t.ok(session?.httpOnly, 'HttpOnly');
  t.equal(session?.sameSite, 'Lax');

  mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: 'test-artifacts/browser-login.png', fullPage: true });
  t.ok(existsSync('test-artifacts/browser-login.png'), 'screenshot saved');
});
