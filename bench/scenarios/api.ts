// Request latency of our GraphQL API over HTTP (ours only, no peer has this API):
// app-open — a viewer in 1,000 channels loads organization.channels with counts;
// history — a page of 50 in a huge channel vs a 1k-message channel (should be about equal).
import { toGlobalId } from '../../src/domain/ids.ts';
import { pool, type GraphQLClient } from '../lib/graphql.ts';
import { measure } from '../lib/latency.ts';
import { progress } from '../lib/log.ts';
import type { Observation } from '../lib/report.ts';
import { benchUser, type BenchUser, type SeedPlan } from '../seed/plans.ts';
import { startOurs, type OursDeployment } from '../systems/ours.ts';

/** Mutations per request, as aliases: the server allows 50 aliases per document (limits.aliasesMax). */
const BATCH = 50;

/** app-open's viewer, who created the seeded organization; its peer (user 0) is the other member. */
const VIEWER: BenchUser = { id: 'bench-viewer', name: 'viewer' };
const API_SEED = { kind: 'organization', name: 'bench-api', creator: VIEWER, users: 1 } as const satisfies SeedPlan;

const CREATE_ORG = 'mutation { createOrganization(input: { name: "bench-api" }) { id } }';
const CHANNELS_PAGE = `query($o: ID!, $after: String) {
  organization(id: $o) {
    channels(first: 100, after: $after) {
      edges { node { id name kind unreadCount mentionCount hasUnread lastReadSeq lastMessage { seq text sentAt author { name } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
const MESSAGE_FIELDS = 'edges { cursor node { id seq text sentAt author { name } } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor }';
const NEWEST = `query($c: ID!) { channel(id: $c) { messages(last: 50) { ${MESSAGE_FIELDS} } } }`;
const OLDEST = `query($c: ID!, $after: String) { channel(id: $c) { messages(first: 50, after: $after) { ${MESSAGE_FIELDS} } } }`;

type Page = { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

/** Runs `count` copies of one mutation field, BATCH per request as aliases, with progress lines. */
async function batched(api: GraphQLClient, token: string, what: string, count: number, field: (i: number) => string, timeLimitMs: number): Promise<number> {
  const requests = Array.from({ length: Math.ceil(count / BATCH) }, (_, r) => r);
  const started = Date.now();
  let done = 0;
  let lastLog = started;
  let stopped = false;
  await pool(requests, 4, async (r) => {
    if (stopped) return;
    const first = r * BATCH;
    const fields: string[] = [];
    for (let i = first; i < Math.min(count, first + BATCH); i++) fields.push(`a${i - first}: ${field(i)}`);
    await api.request(token, `mutation { ${fields.join(' ')} }`);
    done += fields.length;
    if (Date.now() - lastLog > 2000 || done === count) {
      lastLog = Date.now();
      const rate = done / ((Date.now() - started) / 1000);
      progress(`seeding ${what}: ${done}/${count} (${Math.round(rate)}/s, ETA ${Math.round((count - done) / rate)} s)`);
    }
    if (Date.now() - started > timeLimitMs && !stopped) {
      stopped = true;
      progress(`seeding ${what}: time limit reached at ${done}/${count}; measuring with what is there`);
    }
  });
  return done;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

/** Store calls the server has made so far (chat_store_calls_total over every method, from /metrics). */
async function storeCalls(ours: OursDeployment): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ours.servers[0]!.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('chat_store_calls_total{'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Like measure(), also counting the store calls each request made on average. */
async function measureWithStoreCalls(ours: OursDeployment, requests: () => Promise<number>, samples?: number) {
  let made = 0;
  const before = await storeCalls(ours);
  const times = await measure(async () => {
    made += await requests();
  }, { samples });
  return { ...times, storeCallsPerRequest: ((await storeCalls(ours)) - before) / made };
}

export async function runAppOpen(ours: OursDeployment<typeof API_SEED>, channels: number): Promise<Observation[]> {
  const { api } = ours;
  const viewer = await ours.token(VIEWER);
  const peer = await ours.token(benchUser(0));
  const org = toGlobalId('Organization', ours.seeded.organizationId);
  const peerId = toGlobalId('User', benchUser(0).id);
  const viewerId = toGlobalId('User', VIEWER.id);

  // #general exists already; create the rest, each with the peer as a member.
  const ids: string[] = [];
  const extra = channels - 1;
  for (let first = 0; first < extra; first += BATCH) {
    const fields: string[] = [];
    for (let i = first; i < Math.min(extra, first + BATCH); i++) {
      fields.push(`a${i - first}: createChannel(input: { organizationId: ${JSON.stringify(org)}, name: "bench-${i}", memberIds: [${JSON.stringify(peerId)}] }) { id }`);
    }
    const data = await api.request<Record<string, { id: string }>>(viewer, `mutation { ${fields.join(' ')} }`);
    ids.push(...Object.values(data).map((channel) => channel.id));
    if (ids.length % 250 < BATCH || ids.length === extra) progress(`seeding app-open: ${ids.length + 1}/${channels} channels`);
  }
  // One message from the peer in each channel (every third mentions the viewer), so counts are non-zero.
  await batched(api, peer, 'app-open messages', ids.length, (i) => {
    const mention = i % 3 === 0 ? `, mentionIds: [${JSON.stringify(viewerId)}]` : '';
    return `sendMessage(input: { channelId: ${JSON.stringify(ids[i])}, text: "hello @viewer ${i}"${mention} }) { seq }`;
  }, 600_000);

  const firstPage = await measureWithStoreCalls(ours, async () => {
    await api.request(viewer, CHANNELS_PAGE, { o: org, after: null });
    return 1;
  });
  let pages = 0;
  const allPages = await measureWithStoreCalls(
    ours,
    async () => {
      let after: string | null = null;
      pages = 0;
      for (let page = 0; page < 50; page++) {
        const data: { organization: { channels: Page } } = await api.request(viewer, CHANNELS_PAGE, { o: org, after });
        pages++;
        const { pageInfo } = data.organization.channels;
        if (!pageInfo.hasNextPage || !pageInfo.endCursor) break;
        after = pageInfo.endCursor;
      }
      return pages;
    },
    30,
  );
  const calls = (value: number) => `${value.toFixed(1)} store calls per request`;
  return [
    {
      kind: 'observation',
      title: `app-open first page`,
      values: { channels, p50: firstPage.p50, p99: firstPage.p99, storeCallsPerRequest: firstPage.storeCallsPerRequest },
      line: `app-open (organization.channels first 100 with counts, viewer in ${channels} channels): p50 ${ms(firstPage.p50)}, p99 ${ms(firstPage.p99)}, ${calls(firstPage.storeCallsPerRequest)} (ours only)`,
    },
    {
      kind: 'observation',
      title: `app-open all channels`,
      values: { channels, pages, p50: allPages.p50, p99: allPages.p99, storeCallsPerRequest: allPages.storeCallsPerRequest },
      line: `app-open all ${channels} channels (${pages} pages of 100 with counts): p50 ${ms(allPages.p50)}, p99 ${ms(allPages.p99)}, ${calls(allPages.storeCallsPerRequest)} (ours only)`,
    },
  ];
}

export async function runHistory(ours: OursDeployment, bigSize: number, smallSize: number, seedTimeLimitMs: number): Promise<Observation[]> {
  const { api, adminToken } = ours;
  const org = (await api.request<{ createOrganization: { id: string } }>(adminToken, CREATE_ORG)).createOrganization.id;
  const create = async (name: string) =>
    (await api.request<{ createChannel: { id: string } }>(adminToken, `mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { organizationId: org, name } })).createChannel.id;
  const big = await create('history-big');
  const small = await create('history-small');
  const send = (channel: string) => (i: number) => `sendMessage(input: { channelId: ${JSON.stringify(channel)}, text: "history message ${i}" }) { seq }`;
  const smallCount = await batched(api, adminToken, 'history (small channel)', smallSize, send(small), seedTimeLimitMs);
  const bigCount = await batched(api, adminToken, 'history (big channel)', bigSize, send(big), seedTimeLimitMs);

  const pageTimes = async (channel: string) => {
    const newest = await measure(async () => {
      await api.request(adminToken, NEWEST, { c: channel });
    });
    // The second-oldest page: as far from the newest messages as a client can scroll.
    const first = await api.request<{ channel: { messages: Page } }>(adminToken, OLDEST, { c: channel, after: null });
    const cursor = first.channel.messages.pageInfo.endCursor;
    const oldest = await measure(async () => {
      await api.request(adminToken, OLDEST, { c: channel, after: cursor });
    });
    return { newest, oldest };
  };
  const bigTimes = await pageTimes(big);
  const smallTimes = await pageTimes(small);
  const line = (what: string, b: { p50: number; p99: number }, s: { p50: number; p99: number }) =>
    `history page of 50, ${what}: ratio ${(b.p50 / s.p50).toFixed(2)} (${bigCount}-message channel p50 ${ms(b.p50)} p99 ${ms(b.p99)}, ${smallCount}-message channel p50 ${ms(s.p50)} p99 ${ms(s.p99)})`;
  return (['newest', 'oldest'] as const).map((which) => ({
    kind: 'observation' as const,
    title: `history ${which} page`,
    values: {
      bigMessages: bigCount,
      smallMessages: smallCount,
      bigP50: bigTimes[which].p50,
      bigP99: bigTimes[which].p99,
      smallP50: smallTimes[which].p50,
      smallP99: smallTimes[which].p99,
      ratio: bigTimes[which].p50 / smallTimes[which].p50,
    },
    line: line(which === 'newest' ? 'newest (last: 50)' : 'deep in history (first: 50 after the oldest page)', bigTimes[which], smallTimes[which]),
  }));
}

const short = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 160);

/** The chosen scenarios on one fresh single-process deployment of ours; a failure is reported, not thrown. */
export async function runApiScenarios(
  redis: { url: string; flush(): Promise<void> },
  plan: { appOpen: boolean; history: boolean; appOpenChannels: number; historyMessages: number; historySmall: number; seedTimeLimitMs: number },
  emit: (observation: Observation) => void,
): Promise<void> {
  await redis.flush();
  progress('app-open and history: starting ours');
  let deployment: OursDeployment<typeof API_SEED>;
  try {
    deployment = await startOurs(1, redis.url, API_SEED);
  } catch (error) {
    progress(`app-open and history: failed: ${short(error)}`);
    return;
  }
  try {
    if (plan.appOpen) for (const observation of await runAppOpen(deployment, plan.appOpenChannels)) emit(observation);
  } catch (error) {
    progress(`app-open: failed: ${short(error)}`);
  }
  try {
    if (plan.history) for (const observation of await runHistory(deployment, plan.historyMessages, plan.historySmall, plan.seedTimeLimitMs)) emit(observation);
  } catch (error) {
    progress(`history: failed: ${short(error)}`);
  }
  await deployment.stop();
}
