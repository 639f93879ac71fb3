/**
 * The approver web page (/approver) in headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the real service on a real port: the page makes its P-256 key with WebCrypto (not
 * extractable, in IndexedDB), the test puts that public key into an SKA policy, and the page lists,
 * reviews, approves (request EXECUTED, signature verified with node:crypto) and rejects with a reason.
 */
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { APPROVER_PAGE_CSP } from '../../src/features/approver-page/approver-page.routes.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { waitForStatus } from '../helpers/approvers.js';
import { HAVE_CHROMIUM, launchChromium, warnWithoutChromium } from '../helpers/chromium.js';
import { createSkaKey, signRequest, verifiesWithKey } from './workflow/fixtures.js';

const SCREENSHOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../artifacts/approver-page.png',
);
const PARTITION = 'web-approvers';
const LABEL = 'ska-web';

warnWithoutChromium('approver-page.test.ts');

describe.skipIf(!HAVE_CHROMIUM)('the approver page in headless Chromium', () => {
  let ctx: TestContext;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let approverApiKey: string;
  let publicKey: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ctx = await createTestContext({ worker: true });
    const partition = await ctx.partition(PARTITION);
    approverApiKey = (await createApiKey(ctx.prisma, partition.id, 'approver')).key;
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    // a fresh profile (newContext is incognito-like), its own IndexedDB and session storage
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) pageErrors.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  /** Refreshes the task list in the page and opens the review of the request's task. */
  async function reviewInPage(requestId: string): Promise<string> {
    await page.click('#tasks-refresh');
    const row = page.locator(`tr[data-request-id="${requestId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator('button.review').click();
    await page.locator('#task-details dd').first().waitFor();
    await expect.poll(() => page.locator('#reject').isEnabled()).toBe(true);
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the approver reads
    return page.locator('#task-details').innerText();
  }

  it('serves the page with a Content-Security-Policy that allows no inline script', async () => {
    const response = await page.goto(`${baseUrl}/approver`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(APPROVER_PAGE_CSP);
    expect(APPROVER_PAGE_CSP).toContain("script-src 'self'");
    expect(APPROVER_PAGE_CSP).not.toContain('unsafe-inline');
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.isVisible('#key-create')).toBe(true);
    const html = await (await fetch(`${baseUrl}/approver`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(`${baseUrl}/approver/nothing.js`)).status).toBe(404);
  });

  it('creates a non-extractable P-256 key in the browser and shows its public key', async () => {
    await page.selectOption('#credential-type', 'apiKey');
    await page.fill('#credential-value', approverApiKey);
    await page.click('#credential-save');
    await expect.poll(() => page.textContent('#credential-state')).toContain('API key');

    await page.click('#key-create');
    await page.waitForSelector('#key-details:not([hidden])');
    publicKey = await page.inputValue('#public-key');
    expect(publicKey).toMatch(/^MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE[A-Za-z0-9+/]+=*$/); // P-256 SPKI prefix

    // what IndexedDB holds: a private key the page itself cannot export
    // (a string: the test files are compiled without the DOM library)
    const stored = await page.evaluate(`(async () => {
      const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open('opentsb-approver', 1);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const record = await new Promise((resolve, reject) => {
        const get = db.transaction('keys').objectStore('keys').get('approver');
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => reject(get.error);
      });
      db.close();
      const exported = await crypto.subtle.exportKey('pkcs8', record.keyPair.privateKey).then(
        () => 'exported',
        (error) => error.name,
      );
      return { extractable: record.keyPair.privateKey.extractable, exported };
    })()`);
    expect(stored).toEqual({ extractable: false, exported: 'InvalidAccessError' });
  });

  it('approves a sign request in the page: EXECUTED, and the signature verifies', async () => {
    await createSkaKey(ctx, PARTITION, LABEL, {
      ruleUse: {
        tokens: [
          {
            name: 'main',
            timelock: 0,
            timeout: 600,
            groups: [
              {
                name: 'web',
                quorum: 1,
                approvals: [{ type: 'public_key', name: 'browser', value: publicKey }],
              },
            ],
          },
        ],
      },
    });
    const message = 'pay 250 CHF to ACME AG';
    const requestId = await signRequest(ctx, PARTITION, LABEL, message, {
      metaData: Buffer.from(JSON.stringify({ app: 'payments', invoice: 'INV-42' })).toString('base64'),
    });

    const details = await reviewInPage(requestId);
    expect(details).toContain('SIGN');
    expect(details).toContain(`${LABEL} (uuid `);
    expect(details).toContain(requestId);
    expect(details).toContain(message);
    expect(details).toContain('"invoice": "INV-42"');
    expect(details).toMatch(/Payload digest check\s+VALID/);
    expect(details).toMatch(/Operation parameters\s+\{.*"signatureAlgorithm":"SHA256_WITH_ECDSA"/);
    expect(details).toMatch(/Operation parameters check\s+VALID/);
    expect(details).toMatch(/Timestamp signature\s+VALID/);
    expect(details).toMatch(/Key attributes signature\s+VALID/);
    expect(details).toMatch(/Certificate chain\s+VALID/);
    expect(await page.locator('#task-problems li').count()).toBe(0);
    expect(await page.isEnabled('#approve')).toBe(true);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = await readFile(SCREENSHOT);
    expect(png.length).toBeGreaterThan(10_000);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');

    await page.click('#approve');
    await expect.poll(() => page.textContent('#status'), { timeout: 10_000 }).toContain('Approved');
    const done = await waitForStatus(ctx, PARTITION, requestId, ['EXECUTED', 'FAILED']);
    expect(done['status']).toBe('EXECUTED');
    expect(done['approvedBy']).toEqual([publicKey]);
    const signature = Buffer.from(String(done['result']), 'base64');
    expect(await verifiesWithKey(ctx, PARTITION, LABEL, Buffer.from(message), signature)).toBe(true);
    expect(await page.locator(`tr[data-request-id="${requestId}"]`).count()).toBe(0);
  });

  it('rejects a request in the page with a reason: REJECTED, reason recorded', async () => {
    const requestId = await signRequest(ctx, PARTITION, LABEL, 'pay 90,000 CHF to an unknown account');
    await reviewInPage(requestId);
    await page.fill('#reject-reason', 'unknown beneficiary');
    await page.click('#reject');
    await expect.poll(() => page.textContent('#status'), { timeout: 10_000 }).toContain('Rejected');
    const done = await waitForStatus(ctx, PARTITION, requestId, ['REJECTED']);
    expect(done['rejections']).toEqual([{ approverPublicKey: publicKey, reason: 'unknown beneficiary' }]);
  });

  it('refuses to approve a task whose shown request has other operation parameters than its challenge binds', async () => {
    const requestId = await signRequest(ctx, PARTITION, LABEL, 'pay 70 CHF to ACME AG');
    // the service (or its database) shows approvers another signature algorithm than the challenge binds
    const stored = await ctx.prisma.skaRequest.findUniqueOrThrow({ where: { id: requestId } });
    await ctx.prisma.skaRequest.update({
      where: { id: requestId },
      data: { body: { ...(stored.body as object), signatureAlgorithm: 'SHA384_WITH_ECDSA' } },
    });

    const details = await reviewInPage(requestId);
    expect(details).toMatch(/Operation parameters\s+\{.*"signatureAlgorithm":"SHA384_WITH_ECDSA"/);
    expect(details).toMatch(/Operation parameters check\s+INVALID/);
    expect(details).toMatch(/Payload digest check\s+VALID/);
    expect(await page.locator('#task-problems li').allTextContents()).toEqual([
      'the request shown does not have the operation parameters the challenge binds',
    ]);
    expect(await page.isDisabled('#approve')).toBe(true);
    await page.click('#approve', { force: true });
    expect(await page.textContent('#status')).toContain('Do not approve');
    const shown = await ctx.call(PARTITION, ['keyOperation'], {
      method: 'GET',
      url: `/v1/request/${requestId}`,
    });
    expect(shown.json()).toMatchObject({ status: 'PENDING', approvedBy: [] });
    const tasks = await ctx.prisma.approvalTask.findMany({ where: { requestId } });
    expect(tasks.map((task) => task.decision)).toEqual([null]);
  });

  it('keeps the key across a reload (IndexedDB) and logged no page errors', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.inputValue('#public-key')).toBe(publicKey);
    expect(await page.isHidden('#key-create')).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
