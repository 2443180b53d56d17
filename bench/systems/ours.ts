// Our GraphQL server, started as `node --import tsx src/main.ts` with a fresh SQLite file per
// deployment. Subscribers are few users with many connections each: provisioning 50k users
// over HTTP would dominate the run and is not what fan-out measures.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GraphQLClient, mintToken, pool } from '../lib/graphql.ts';
import { progress } from '../lib/log.ts';
import { freePort, repoRoot, startNode, stop, waitReady, type ServerProcess } from '../lib/proc.ts';
import type { Deployment, System } from './types.ts';

/** Users that hold the subscriber connections (connection i belongs to user i % USERS). */
const USERS = 100;

export interface OursDeployment extends Deployment {
  api: GraphQLClient;
  /** A token for the org creator, who also sends the messages. */
  adminToken: string;
  token(sub: string, name: string): Promise<string>;
}

const CREATE_ORG = `mutation($name: String!) {
  createOrganization(input: { name: $name }) { id channels(first: 1) { edges { node { id name } } } }
}`;
const ME = 'query { me { id } }';
const ADD_MEMBER = 'mutation($i: AddOrganizationMemberInput!) { addOrganizationMember(input: $i) { id } }';
const SEND = 'mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq } }';

export async function startOurs(processes: number, redisUrl: string): Promise<OursDeployment> {
  const dir = mkdtempSync(path.join(tmpdir(), 'chat-bench-'));
  const secret = randomBytes(24).toString('hex');
  const env = {
    SQLITE_PATH: path.join(dir, 'chat.db'),
    REDIS_URL: redisUrl,
    AUTH_JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    // The default limit (100 sends per 10 s per user) would throttle the publisher.
    SEND_RATE_LIMIT: '1000000',
    // Subscribers are a few users with hundreds of connections each (see USERS).
    WS_SOCKETS_PER_USER: '1000000',
  };
  const servers: ServerProcess[] = [];
  try {
    // The first process creates the SQLite schema; the others start once it exists.
    servers.push(await startNode('ours#0', 'src/main.ts', await freePort(), env));
    await waitReady(servers[0]!, '/ready', 90_000);
    for (let i = 1; i < processes; i++) servers.push(await startNode(`ours#${i}`, 'src/main.ts', await freePort(), env));
    await Promise.all(servers.slice(1).map((server) => waitReady(server, '/ready', 90_000)));
  } catch (error) {
    await Promise.all(servers.map((server) => stop(server.child)));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const api = new GraphQLClient(`http://127.0.0.1:${servers[0]!.port}/graphql`);
  const token = (sub: string, name: string) => mintToken(secret, sub, name);
  const adminToken = await token('bench-admin', 'admin');
  let channelId: string | undefined;

  return {
    servers,
    urls: servers.map((server) => `ws://127.0.0.1:${server.port}`),
    api,
    adminToken,
    token,
    async prepare(subscribers) {
      type Org = { createOrganization: { id: string; channels: { edges: { node: { id: string } }[] } } };
      const org = await api.request<Org>(adminToken, CREATE_ORG, { name: 'bench' });
      const organizationId = org.createOrganization.id;
      channelId = org.createOrganization.channels.edges[0]?.node.id;
      if (!channelId) throw new Error('createOrganization returned no #general channel');
      const users = Math.min(USERS, subscribers);
      const tokens = await Promise.all(Array.from({ length: users }, (_, i) => token(`bench-user-${i}`, `user${i}`)));
      await pool(tokens, 8, async (userToken) => {
        const { me } = await api.request<{ me: { id: string } }>(userToken, ME);
        await api.request(adminToken, ADD_MEMBER, { i: { organizationId, userId: me.id } });
      });
      progress(`ours: ${users} users in #general, ${Math.ceil(subscribers / users)} connections each`);
      return { channel: channelId, tokens };
    },
    async publish(text) {
      await api.request(adminToken, SEND, { i: { channelId, text } });
    },
    async stop() {
      await Promise.all(servers.map((server) => stop(server.child)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const ours: System = {
  name: 'ours',
  label: 'ours',
  protocol: 'graphql-ws',
  unavailable: () =>
    existsSync(path.join(repoRoot, 'src/main.ts')) && existsSync(path.join(repoRoot, 'src/auth/tokens.ts'))
      ? undefined
      : 'src/main.ts does not exist yet',
  start: startOurs,
};
