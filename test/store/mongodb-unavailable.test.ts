// A MongoDB deployment that cannot confirm writes in time (its majority lost: every write's wait
// runs out) as a client of the API sees it: a clear UNAVAILABLE error to retry, nothing changed,
// and the same send accepted once the majority is back. The store runs on the mingo stand-in
// playing a replica set (units are transactions), behind a real server on port 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelMessagesAfterDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { closeDeps, connectDeps } from '../../src/deps.ts';
import { createLogger } from '../../src/logger.ts';
import { codes } from '../support/client.ts';
import { type MingoDb, majorityTimeout } from '../support/mingo-db.ts';
import { TEST_SECRET } from '../support/server.ts';
import { type Member, organizationWith } from '../support/world.ts';
import { standIn, startOn } from './mongo-stand-in.ts';

let db: MingoDb;
let url: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  db = standIn('replica set');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' });
  const deps = await connectDeps(config, createLogger(config.logLevel), await startOn(db));
  const app = buildApp(deps);
  url = `http://127.0.0.1:${await app.start()}/graphql`;
  stop = async () => {
    await app.stop();
    await closeDeps(deps);
  };
});
afterAll(async () => stop?.());

async function texts(user: Member, channelId: string) {
  const page = await user.run(ChannelMessagesAfterDocument, { channelId, first: 100 });
  return page.channel!.messages.edges.map((e) => `${e.node.seq}:${e.node.text}`);
}

describe('mongodb (mingo, replica set) without a majority', () => {
  it('answers a send with UNAVAILABLE and retryAfterSeconds, stores nothing, and takes the retry once it is back', async () => {
    const world = await organizationWith(url, ['ann', 'bob']);
    const { ann, bob } = world.users as Record<string, Member>;
    await ann!.run(SendMessageDocument, { input: { channelId: world.generalId, text: 'before' } });

    db.writeFailure = majorityTimeout();
    const input = { channelId: world.generalId, text: 'during', clientMessageId: 'outage-1' };
    const refused = await ann!.request(SendMessageDocument, { input });
    db.writeFailure = null;

    expect(codes(refused)).toEqual(['UNAVAILABLE']);
    expect(refused.errors![0]!.extensions).toMatchObject({ retryAfterSeconds: 1 });
    expect(refused.errors![0]!.message).toMatch(/briefly unavailable; try again/);
    expect(await texts(bob!, world.generalId)).toEqual(['1:before']);

    await ann!.run(SendMessageDocument, { input });
    await ann!.run(SendMessageDocument, { input });
    expect(await texts(bob!, world.generalId)).toEqual(['1:before', '2:during']);
  });
});
