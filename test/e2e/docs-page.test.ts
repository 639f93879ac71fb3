/**
 * The Swagger UI under /docs in headless Chromium (Debian's `chromium`, driven by playwright-core) against the
 * real service: it renders the operations under the Content-Security-Policy of DOCS_CONTENT_SECURITY_POLICY,
 * and the browser reports no refused script, style or fetch.
 */
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { HAVE_CHROMIUM, launchChromium, warnWithoutChromium } from '../helpers/chromium.js';

warnWithoutChromium('docs-page.test.ts');

describe.skipIf(!HAVE_CHROMIUM)('the Swagger UI at /docs in headless Chromium', () => {
  let ctx: TestContext;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    ctx = await createTestContext();
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  it('renders every operation with no Content-Security-Policy violation', async () => {
    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    const response = await page.goto(`${baseUrl}/docs/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(60);
    await expect.poll(() => page.locator('.info .title').textContent()).toContain('OpenTSB');
    expect(problems).toEqual([]);
  }, 60_000);
});
