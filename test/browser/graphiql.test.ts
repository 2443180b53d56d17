// GraphiQL on /graphql in a real browser (Debian's Chromium driven by playwright-core), with
// every request to another host refused: it loads, reads the schema, runs a query with the token
// in its header editor and a subscription that shows a message sent meanwhile.
// Leaves test-artifacts/graphiql.png (git-ignored) for a person to look at.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getIntrospectionQuery } from 'graphql';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { organizationWith, send } from '../support/world.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`[graphiql] ${CHROMIUM} is absent: the browser test is SKIPPED (apt-get install -y chromium)`);
}
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

describe('GraphiQL', () => {
  it('is served from /graphql, and the introspection it runs needs no token', async () => {
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>Chat API</title>');
    // Everything is inline: no script or stylesheet from another host.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="?https?:/);
    const introspection = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true }) }),
    });
    const result = (await introspection.json()) as { data?: { __schema: { types: { name: string }[] } }; errors?: [] };
    expect(codes(result)).toEqual([]);
    expect(result.data?.__schema.types.map((t) => t.name)).toContain('Channel');
  });

  describe.skipIf(!haveChromium)('in Chromium, offline', () => {
    let userDataDir: string;
    let browser: BrowserContext;
    let page: Page;
    const outside: string[] = [];
    const pageErrors: string[] = [];

    beforeAll(async () => {
      userDataDir = mkdtempSync(join(tmpdir(), 'chat-chromium-'));
      browser = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1400, height: 900 },
        serviceWorkers: 'block',
      });
      page = browser.pages()[0] ?? (await browser.newPage());
      // Offline: only this server (and the page's own blob: workers) may be reached.
      await page.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
        outside.push(url.href);
        return route.abort('internetdisconnected');
      });
      page.on('pageerror', (error) => pageErrors.push(error.message));
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    /** Replaces the text of one of GraphiQL's editors as a person would paste it. */
    async function fill(editor: ReturnType<Page['locator']>, text: string) {
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(text);
    }

    /**
     * Types an operation into the query editor, then waits until GraphiQL has taken it in: it
     * picks up the operation's name a moment after the edit (and saves it with the tab), and a
     * run before that asks for the previous name.
     */
    async function typeOperation(editor: ReturnType<Page['locator']>, name: string, text: string) {
      await fill(editor, text);
      const current = () =>
        page.evaluate(() => {
          const saved = JSON.parse(localStorage.getItem('graphiql:tabState') ?? '{}') as { tabs?: { operationName?: string }[]; activeTabIndex?: number };
          return saved.tabs?.[saved.activeTabIndex ?? 0]?.operationName;
        });
      await expect.poll(current, { timeout: 10_000 }).toBe(name);
    }

    it('runs a query with the token header, then a subscription that receives a message', { timeout: 90_000 }, async () => {
      const world = await organizationWith(server.url, ['ann', 'bob']);
      const { ann, bob } = world.users;

      await page.goto(server.url, { waitUntil: 'load' });
      const queryEditor = page.locator('section.graphiql-query-editor .graphiql-editor');
      const run = page.locator('button.graphiql-execute-button');
      const prettify = page.getByRole('button', { name: /^Prettify query/ });
      const resultPane = page.locator('section.result-window');
      // The pane is an editor: it renders spaces as no-break spaces.
      const result = async () => (await resultPane.innerText()).replace(/\s+/g, ' ');
      await queryEditor.waitFor({ timeout: 30_000 });

      await page.getByRole('button', { name: 'Headers', exact: true }).click();
      const headersEditor = page.locator('section.graphiql-editor-tool .graphiql-editor:not(.hidden)');
      await fill(headersEditor, JSON.stringify({ Authorization: `Bearer ${ann!.token}` }));

      await typeOperation(queryEditor, 'AppOpen', 'query AppOpen { me { name organizations(first: 10) { edges { node { name memberCount } } } } }');
      await prettify.click();
      await run.click();
      await expect.poll(result, { timeout: 15_000 }).toContain('"memberCount": 2');
      expect(await result()).toContain('"name": "ann"');

      await typeOperation(queryEditor, 'Live', `subscription Live { messageAdded(channelId: "${world.generalId}", afterSeq: 0) { seq text author { name } } }`);
      await prettify.click();
      const stream = page.waitForResponse((response) => response.request().headers()['accept'] === 'text/event-stream');
      await run.click();
      // The subscription is an HTTP request with the header editor's Authorization (SSE).
      const opened = await stream;
      expect(opened.status()).toBe(200);
      expect(await opened.request().headerValue('authorization')).toBe(`Bearer ${ann!.token}`);
      await send(bob!, world.generalId, 'hello from bob, over HTTP');
      await expect.poll(result, { timeout: 15_000 }).toContain('hello from bob, over HTTP');
      expect(await result()).toContain('"name": "bob"');

      // Scrolled back to where a person reads them, for the screenshot.
      for (const editor of [queryEditor, headersEditor]) {
        await editor.click();
        await page.keyboard.press('Control+Home');
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });
      expect(outside).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  });
});
