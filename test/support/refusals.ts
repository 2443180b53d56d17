// Measuring a refusal against a real server process: a request made while another member runs a
// small query over and over, what it cost the others (the server's longest event-loop delay, the
// other member's slowest answer), and the refusal that held nobody up.
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import { MeDocument } from '../../operations/generated/graphql.ts';
import { metricValue } from './metrics.ts';
import type { ServerProcess } from './server.ts';
import type { Member } from './world.ts';

export interface Outcome {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  codes: (string | undefined)[];
  /** How long the server's event loop was held at most while the request was handled. */
  blockedMs: number;
  /** The slowest of the normal queries another user ran meanwhile. */
  othersWaitedMs: number;
}

/** A request; its body is made anew for each attempt, so that no cache of the server answers it. */
export interface Sent {
  body: (attempt: number) => string;
  headers?: Record<string, string>;
  token?: string | null;
}

/** A GraphQL request, its document made distinct per attempt by a comment (which the lexer skips). */
export const ask = (document: string, variables?: Record<string, unknown>, extra: Omit<Sent, 'body'> = {}): Sent => ({
  body: (attempt) => JSON.stringify({ query: `${document}\n# attempt ${attempt}`, variables }),
  ...extra,
});

/** Who the requests are measured against: the server, the member who sends them, another member. */
export interface RefusalTarget {
  server: ServerProcess;
  sender: Member;
  other: Member;
}

/** The measuring requests, for a target known once the test's server is up. */
export function refusals(target: () => RefusalTarget) {
  function headersOf(sent: Omit<Sent, 'body'>): Record<string, string> {
    const token = sent.token === undefined ? target().sender.token : sent.token;
    return {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...sent.headers,
    };
  }

  /**
   * POSTs `chunks` chunks of 64 KB without a length, and does not end the body until the server has
   * answered: an answer shows the server stopped at the limit rather than waiting for the end.
   */
  function postChunked(chunks: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(target().server.url, { method: 'POST', agent: false, headers: { ...headersOf({}), 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      // Once the server has answered and closed, the unended body fails: that is the point.
      req.on('error', (error: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(error.code ?? '') ? undefined : reject(error)));
      for (let i = 0; i < chunks; i++) req.write(' '.repeat(64 * 1024));
    });
  }

  /**
   * Makes a request while the other member runs a small query over and over, and measures what it
   * cost the others: the server process' longest event-loop delay in the meantime (its /metrics
   * window starts at the first scrape) and the other member's slowest answer.
   */
  async function whileOthersQuery(request: Sent | (() => Promise<{ status: number; text: string }>), attempt = 0): Promise<Outcome> {
    // The body is made before the clock starts: its making is the client's time, not the server's.
    const body = typeof request === 'function' ? null : request.body(attempt);
    const send =
      typeof request === 'function'
        ? request
        : async () => {
            const response = await fetch(target().server.url, { method: 'POST', headers: headersOf(request), body });
            return { status: response.status, text: await response.text() };
          };
    await metricValue(target().server, 'nodejs_eventloop_lag_max_seconds');
    let done = false;
    const waits: number[] = [];
    const others = (async () => {
      while (!done) {
        const started = performance.now();
        await target().other.run(MeDocument);
        waits.push(performance.now() - started);
      }
    })();
    const { status, text } = await send();
    done = true;
    await others;
    const blockedMs = (await metricValue(target().server, 'nodejs_eventloop_lag_max_seconds')) * 1000;
    const answer = JSON.parse(text) as Outcome['body'];
    return { status, body: answer, codes: (answer.errors ?? []).map((e) => e.extensions?.code), blockedMs, othersWaitedMs: Math.max(...waits) };
  }

  /**
   * A refusal with the status and code, that held nobody up: the server's loop never waited
   * 100 ms, nor did the other member's queries. Other processes share this machine's two cores, so a slow
   * measurement is taken again (with a fresh document) up to four times; a document that holds the
   * server up does so every time.
   */
  async function refusedQuickly(sent: Sent | (() => Promise<{ status: number; text: string }>), status: number, code: string): Promise<Outcome> {
    let best: Outcome | undefined;
    const slowest = (outcome: Outcome) => Math.max(outcome.blockedMs, outcome.othersWaitedMs);
    for (let attempt = 0; attempt < 5 && !(best && slowest(best) < 100); attempt++) {
      const outcome = await whileOthersQuery(sent, attempt);
      expect({ status: outcome.status, codes: [...new Set(outcome.codes)] }).toEqual({ status, codes: [code] });
      // Refused before running: no data at all (a field's own refusal leaves its parent, null).
      if (status !== 200) expect(outcome.body.data ?? null).toBeNull();
      if (!best || slowest(outcome) < slowest(best)) best = outcome;
    }
    expect(best!.blockedMs).toBeLessThan(100);
    expect(best!.othersWaitedMs).toBeLessThan(100);
    return best!;
  }

  return { headersOf, postChunked, whileOthersQuery, refusedQuickly };
}
