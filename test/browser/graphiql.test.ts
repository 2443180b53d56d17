// GraphiQL on /graphql in a real browser (Debian's Chromium driven by playwright-core), with
// every request to another host refused: the README's walkthrough, followed as written, in two
// windows (a query with the token in the header editor, an invitation, a subscription over SSE that
// shows the message sent meanwhile, and the mention badge it leaves).
// Leaves test-artifacts/graphiql.png (git-ignored) for a person to look at.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getIntrospectionQuery } from 'graphql';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes } from '../support/client.ts';
import { ROOT, TEST_SECRET, type TestServer, startServer } from '../support/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`[graphiql] ${CHROMIUM} is absent: the browser test is SKIPPED (apt-get install -y chromium)`);
}
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

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
      // Offline: only this server (and the pages' own blob: workers) may be reached, from every window.
      await browser.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === '127.0.0.1' || url.protocol === 'blob:' || url.protocol === 'data:') return route.continue();
        outside.push(url.href);
        return route.abort('internetdisconnected');
      });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    });

    /** Opens GraphiQL in a browser window of its own (a page of the browser, as a person opens a second window). */
    async function openWindow(): Promise<GraphiQLWindow> {
      const page = browser.pages().find((p) => p.url() === 'about:blank') ?? (await browser.newPage());
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(server.url, { waitUntil: 'load' });
      const window = new GraphiQLWindow(page);
      await window.queryEditor.waitFor({ timeout: 30_000 });
      return window;
    }

    it('follows the README walkthrough as written: two windows, an invitation, a live message, and Bob\'s mention badge', { timeout: 180_000 }, async () => {
      const steps = walkthrough();
      const values: Record<string, string> = {};
      const filled = (text: string) => text.replace(/<([^<>]+)>/g, (whole, name: string) => values[name] ?? whole);

      // 2. The tokens, from the commands as written (signed with the server's secret).
      const commands = codeBlocks(steps[2]!, 'sh');
      expect(commands).toEqual(['npm run -s token -- alice Alice', 'npm run -s token -- bob Bob']);
      values["alice's token"] = runCommand(commands[0]!);
      values["bob's token"] = runCommand(commands[1]!);

      // 3. Alice, in the first window, creates the organization.
      const headersOf = (name: string) => filled(inlineCode(steps[3]!).find((code) => code.startsWith('{"Authorization"'))!.replace("<alice's token>", `<${name}'s token>`));
      const alice = await openWindow();
      await alice.headers(headersOf('alice'));
      const [create] = codeBlocks(steps[3]!, 'graphql');
      const created = (await alice.run(create!)) as { createOrganization: { id: string; channels: { edges: { node: { id: string; name: string } }[] } } };
      values['org id'] = created.createOrganization.id;
      values['#general id'] = created.createOrganization.channels.edges[0]!.node.id;
      expect(created.createOrganization.channels.edges[0]!.node.name).toBe('general');

      // 4. Bob's id (his token in the same window), Alice invites him, Bob sees the invitation and accepts it.
      const [me] = inlineCode(steps[4]!).filter((code) => code.startsWith('{ '));
      const [invite, invitations, accept] = codeBlocks(steps[4]!, 'graphql');
      await alice.headers(headersOf('bob'));
      values["bob's id"] = ((await alice.run(me!)) as { me: { id: string } }).me.id;
      await alice.headers(headersOf('alice'));
      expect(await alice.run(filled(invite!))).toMatchObject({ inviteToOrganization: { status: 'PENDING' } });
      await alice.headers(headersOf('bob'));
      const pending = (await alice.run(invitations!)) as { me: { invitations: { id: string; organization: { name: string } }[] } };
      expect(pending.me.invitations.map((i) => i.organization.name)).toEqual(['Acme']);
      values['invitation id'] = pending.me.invitations[0]!.id;
      expect(await alice.run(filled(accept!))).toMatchObject({ acceptInvitation: { status: 'ACCEPTED', organization: { memberCount: 2 } } });

      // 5. Bob subscribes in a second window; the subscription is an HTTP request (SSE) with his header.
      expect(steps[5]).toMatch(/second browser window/);
      const bob = await openWindow();
      await bob.headers(headersOf('bob'));
      const [subscribe] = codeBlocks(steps[5]!, 'graphql');
      const stream = bob.page.waitForResponse((response) => response.request().headers()['accept'] === 'text/event-stream');
      await bob.start(filled(subscribe!));
      const opened = await stream;
      expect(opened.status()).toBe(200);
      expect(await opened.request().headerValue('authorization')).toBe(`Bearer ${values["bob's token"]}`);

      // 6. Alice sends "hello @bob" in her window; it arrives in Bob's, mentioning him; his badges count it.
      const [sendHello, badges] = codeBlocks(steps[6]!, 'graphql');
      await alice.headers(headersOf('alice'));
      expect(await alice.run(filled(sendHello!))).toEqual({ sendMessage: { seq: 1, mentions: [{ name: 'Bob' }] } });
      await expect.poll(() => bob.resultText(), { timeout: 30_000 }).toContain('hello @bob');
      expect(await bob.resultText()).toContain('"name": "Alice"');
      await bob.scrollEditorsHome();
      mkdirSync(ARTIFACTS, { recursive: true });
      await bob.page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });
      await bob.stop();
      const bobsBadges = (await bob.run(filled(badges!))) as { organization: { channels: { edges: { node: Record<string, unknown> }[] } } };
      expect(bobsBadges.organization.channels.edges.map((e) => e.node)).toEqual([{ name: 'general', unreadCount: 1, mentionCount: 1 }]);

      expect(outside).toEqual([]);
      expect(pageErrors).toEqual([]);
    });
  });
});

/** The README's walkthrough, step by step (1-based). */
function walkthrough(): Record<number, string> {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf('## A two-minute walkthrough');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const steps: Record<number, string> = {};
  for (const match of section.matchAll(/^(\d+)\. ([\s\S]*?)(?=^\d+\. |^[^\s\d]|$(?![\s\S]))/gm)) steps[Number(match[1])] = match[2]!;
  expect(Object.keys(steps)).toEqual(['1', '2', '3', '4', '5', '6']);
  return steps;
}

/** The fenced code blocks of a language in a step, each as one line of text. */
function codeBlocks(step: string, language: string): string[] {
  return [...step.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].flatMap((m) =>
    language === 'sh' ? m[1]!.split('\n').map((line) => line.trim()).filter(Boolean) : [m[1]!.split('\n').map((line) => line.trim()).join(' ').trim()],
  );
}

/** The inline code spans of a step (outside its fenced blocks). */
function inlineCode(step: string): string[] {
  return [...step.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/** Runs a shell command of the walkthrough in the repository, signing with the tests' secret; its output. */
function runCommand(command: string): string {
  const [program, ...args] = command.split(' ');
  const result = spawnSync(program!, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, AUTH_JWT_SECRET: TEST_SECRET } });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim();
}

/** One browser window with GraphiQL, used as a person would: its editors, its run and stop button. */
class GraphiQLWindow {
  readonly queryEditor: Locator;
  private readonly button: Locator;
  private readonly resultPane: Locator;

  constructor(readonly page: Page) {
    this.queryEditor = page.locator('section.graphiql-query-editor .graphiql-editor');
    this.button = page.locator('button.graphiql-execute-button');
    this.resultPane = page.locator('section.result-window');
  }

  /** Replaces the text of one of GraphiQL's editors as a person would paste it. */
  private async fill(editor: Locator, text: string) {
    await editor.click();
    await this.page.keyboard.press('Control+A');
    // Cleared first: text starting with "{" over a selection would be taken as surrounding it.
    await this.page.keyboard.press('Delete');
    await this.page.keyboard.insertText(text);
  }

  async headers(json: string) {
    await this.page.getByRole('button', { name: 'Headers', exact: true }).click();
    await this.fill(this.page.locator('section.graphiql-editor-tool .graphiql-editor:not(.hidden)'), json);
  }

  /** Scrolls the query and header editors back to where a person reads them (for a screenshot). */
  async scrollEditorsHome() {
    for (const editor of [this.queryEditor, this.page.locator('section.graphiql-editor-tool .graphiql-editor:not(.hidden)')]) {
      await editor.click();
      await this.page.keyboard.press('Control+Home');
    }
  }

  /** The result pane's text (the pane is an editor: it renders spaces as no-break spaces). */
  async resultText(): Promise<string> {
    return (await this.resultPane.innerText()).replace(/\s+/g, ' ');
  }

  /**
   * Puts the operation in the query editor and presses run, once GraphiQL has taken the text in
   * (it saves it with the tab a moment after the edit; a run before that sends the previous one).
   */
  async start(operation: string) {
    await this.fill(this.queryEditor, operation);
    const saved = () =>
      this.page.evaluate(() => {
        const state = JSON.parse(localStorage.getItem('graphiql:tabState') ?? '{}') as { tabs?: { query?: string }[]; activeTabIndex?: number };
        return state.tabs?.[state.activeTabIndex ?? 0]?.query;
      });
    await expect.poll(saved, { timeout: 20_000 }).toBe(operation);
    await this.button.click();
  }

  /** Runs a query or mutation and returns its data from the result pane, as JSON. */
  async run(operation: string): Promise<unknown> {
    const before = await this.resultText();
    await this.start(operation);
    await expect.poll(async () => (await this.button.getAttribute('aria-label')) ?? '', { timeout: 30_000 }).toMatch(/^Execute query/);
    // The pane fills in as the editor renders it: read it once it holds a new, whole result.
    let result: { data?: unknown; errors?: unknown } | undefined;
    const shown = async () => {
      const text = await this.resultText();
      if (text === before) return false;
      try {
        result = JSON.parse(text) as { data?: unknown; errors?: unknown };
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(shown, { timeout: 30_000 }).toBe(true);
    expect(result!.errors, operation).toBeUndefined();
    return result!.data;
  }

  /** Presses the button while a subscription runs (it reads "Stop query" then). */
  async stop() {
    expect(await this.button.getAttribute('aria-label')).toMatch(/^Stop query/);
    await this.button.click();
    await expect.poll(async () => (await this.button.getAttribute('aria-label')) ?? '', { timeout: 10_000 }).toMatch(/^Execute query/);
  }
}
