// GraphQL over HTTP as the spec's reference audits check it (graphql-http's serverAudits): every
// MUST, SHOULD and MAY for a signed-in client. An anonymous request is refused with 401 before its
// document is even parsed, so for one the audits' SHOULDs on parse and validation statuses cannot
// hold; the test says which.
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFor } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

async function failedAudits(fetchFn?: typeof fetch) {
  const failed: string[] = [];
  for (const audit of serverAudits({ url: server.url, fetchFn })) {
    const result = await audit.fn();
    if (result.status !== 'ok') failed.push(`${result.status}: ${audit.name}`);
  }
  return failed;
}

describe('GraphQL over HTTP', () => {
  it('passes every audit of the spec for a signed-in client', async () => {
    const token = await tokenFor('auditor');
    const signedIn: typeof fetch = (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` } });
    expect(await failedAudits(signedIn)).toEqual([]);
  });

  it('answers anonymous documents it cannot parse or validate with 401, before parsing them', async () => {
    expect(await failedAudits()).toEqual([
      'warn: SHOULD use 200 status code on document parsing failure when accepting application/json',
      'warn: SHOULD use 200 status code on document validation failure when accepting application/json',
      'warn: SHOULD use 400 status code on document parsing failure when accepting application/graphql-response+json',
      'warn: SHOULD use 400 status code on document validation failure when accepting application/graphql-response+json',
    ]);
  });
});
