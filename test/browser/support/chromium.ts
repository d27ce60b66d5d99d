import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const RESULTS = path.resolve(__dirname, '../../../test-results');

/** Debian's Chromium, headless, with nothing reaching out to the network by itself. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Everything a console page says in its console that is an error (a CSP violation is one), and its
 * crashes. Not counted: the identity provider's own pages (its dev login page links a web font), and
 * the 401 of the session probe on the landing page before sign-in (how it learns nobody is signed in).
 */
export function watchErrors(page: Page, consoleUrl: string, into: string[]): void {
  page.on('console', (m) => {
    if (m.type() !== 'error' || !page.url().startsWith(`${consoleUrl}/console`)) return;
    if (/status of 401/.test(m.text()) && new URL(page.url()).pathname === '/console/') return;
    into.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => into.push(`${page.url()}: ${e.message}`));
}

/** A full-page screenshot under test-results/, named for what it shows. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Signs `login` in through the console's "Sign in" button and the provider's login form. */
export async function signIn(context: BrowserContext, consoleUrl: string, login: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${consoleUrl}/console/`);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.waitForURL(`${consoleUrl}/console/**`);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/**
 * The page's WCAG 2.1 A/AA violations by axe-core, evaluated over the DevTools protocol (so the
 * console's CSP, which forbids injected scripts, stays as it is for the page itself).
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const { violations, passed } = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
       .then((r) => ({
         passed: r.passes.length,
         violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })),
       }))`,
  )) as { violations: AxeViolation[]; passed: number };
  // A run that checked nothing would find nothing: make sure the rules ran.
  if (passed < 5) throw new Error(`axe-core checked only ${passed} rules on ${page.url()}`);
  return violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}
