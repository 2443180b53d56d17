// Send throughput (ours only): many senders over many channels, each sending its next message as
// soon as the last one is answered (closed loop), through HTTP with the client app's SendMessage
// document, on one server process. The reference, measured in the same run: the store's own
// ceiling on a fresh file of the same shape (seed/sends.ts). ratio = ours ÷ store ceiling
// (higher is better; 1.00 = the GraphQL server adds nothing to what the store costs). A second
// reference says what HTTP and GraphQL cost by themselves: the same senders and documents against
// graphql-yoga serving our schema with a sendMessage that does nothing (peers/graphql-floor.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toGlobalId } from '../../src/domain/ids.ts';
import { GraphQLClient } from '../lib/graphql.ts';
import { progress } from '../lib/log.ts';
import { type ServerProcess, serversCpuSeconds, startReady, stop } from '../lib/proc.ts';
import type { Observation } from '../lib/report.ts';
import { benchUser } from '../seed/plans.ts';
import { seed } from '../seed/seed.ts';
import { sendChannelOf, sendTextOf, sendsPlan } from '../seed/sends.ts';
import { sendMessage, startOurs } from '../systems/ours.ts';

export interface SendsPlan {
  senders: number;
  channels: number;
  warmupSeconds: number;
  seconds: number;
}

async function storeCeiling(plan: SendsPlan): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'chat-bench-ceiling-'));
  try {
    progress(`sends: the store's ceiling, appendMessage alone for ${plan.seconds} s`);
    const result = await seed(path.join(dir, 'chat.db'), { kind: 'storeCeiling', ...plan });
    return result.messages / result.seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a closed loop of senders got through in the measured window, and what it cost the server. */
interface LoopResult {
  perSecond: number;
  serverCpuMsPerSend: number;
  clientCpuMsPerSend: number;
  failed: number;
  firstError?: string;
}

/** Each sender sends its next message once the last is answered; only answers inside the window count. */
async function closedLoop(plan: SendsPlan, servers: ServerProcess[], send: (sender: number, j: number) => Promise<unknown>): Promise<LoopResult> {
  const warmupEnd = Date.now() + plan.warmupSeconds * 1000;
  const end = warmupEnd + plan.seconds * 1000;
  let counted = 0;
  let failed = 0;
  let firstError: string | undefined;
  let cpuBefore = 0;
  let clientCpuBefore = process.cpuUsage();
  const cpuAtWarmupEnd = setTimeout(() => {
    cpuBefore = serversCpuSeconds(servers);
    clientCpuBefore = process.cpuUsage();
  }, plan.warmupSeconds * 1000);
  const sender = async (s: number) => {
    for (let j = 0; Date.now() < end; j++) {
      try {
        await send(s, j);
        const at = Date.now();
        if (at >= warmupEnd && at < end) counted++;
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: plan.senders }, (_, s) => sender(s)));
  clearTimeout(cpuAtWarmupEnd);
  const sends = Math.max(counted, 1);
  // The senders share the machine with the server: what they cost is said, so a starved server shows.
  const client = process.cpuUsage(clientCpuBefore);
  return {
    perSecond: counted / plan.seconds,
    serverCpuMsPerSend: ((serversCpuSeconds(servers) - cpuBefore) * 1000) / sends,
    clientCpuMsPerSend: (client.user + client.system) / 1000 / sends,
    failed,
    firstError,
  };
}

/** The same closed loop against the floor: Yoga and our schema, no work behind sendMessage. */
async function graphqlFloor(plan: SendsPlan): Promise<LoopResult> {
  progress(`sends: the floor, graphql-yoga with our schema and a sendMessage that does nothing, for ${plan.seconds} s`);
  const servers = await startReady([{ label: 'graphql-floor', script: 'bench/peers/graphql-floor.ts', env: {} }], '/ready', 60_000);
  try {
    const api = new GraphQLClient(`http://127.0.0.1:${servers[0]!.port}/graphql`);
    const channelId = toGlobalId('Channel', 'floor');
    return await closedLoop(plan, servers, (s, j) => sendMessage(api, 'floor', { channelId, ...sendTextOf(s, j) }));
  } finally {
    await Promise.all(servers.map((server) => stop(server.child)));
  }
}

export async function runSends(redis: { url: string; flush(): Promise<void> }, plan: SendsPlan, emit: (observation: Observation) => void): Promise<void> {
  const ceiling = await storeCeiling(plan);
  const floor = await graphqlFloor(plan);
  await redis.flush();
  progress(`sends: starting ours, then ${plan.senders} senders over ${plan.channels} channels for ${plan.seconds} s`);
  const ours = await startOurs(1, redis.url, sendsPlan(plan.senders, plan.channels));
  try {
    const channelIds = ours.seeded.channelIds.map((id) => toGlobalId('Channel', id));
    const tokens = await Promise.all(Array.from({ length: plan.senders }, (_, s) => ours.token(benchUser(s))));
    const result = await closedLoop(plan, ours.servers, (s, j) => {
      const channelId = channelIds[sendChannelOf(s, j, plan.senders, channelIds.length)]!;
      return sendMessage(ours.api, tokens[s]!, { channelId, ...sendTextOf(s, j) });
    });
    const { perSecond: rate, serverCpuMsPerSend: cpuMs, failed, firstError } = result;
    progress(
      `sends: ours ${Math.round(rate)}/s (server ${cpuMs.toFixed(2)} ms CPU per send, senders ${result.clientCpuMsPerSend.toFixed(2)} ms); ` +
        `the floor ${Math.round(floor.perSecond)}/s (server ${floor.serverCpuMsPerSend.toFixed(2)} ms, senders ${floor.clientCpuMsPerSend.toFixed(2)} ms)`,
    );
    const ratio = rate / ceiling;
    // A send does at least the floor's work and the store's: on one process, this is as far as it can go.
    const bound = 1 / (1 / floor.perSecond + 1 / ceiling) / ceiling;
    // A floor whose sends failed bounds nothing: its failures are said as ours are.
    const failures = [
      failed > 0 ? `; ${failed} sends failed (${firstError?.slice(0, 120)})` : '',
      floor.failed > 0 ? `; ${floor.failed} sends to the floor failed (${floor.firstError?.slice(0, 120)})` : '',
    ].join('');
    emit({
      kind: 'observation',
      title: 'send throughput',
      values: {
        senders: plan.senders,
        channels: plan.channels,
        seconds: plan.seconds,
        perSecond: rate,
        storeCeilingPerSecond: ceiling,
        ratio,
        serverCpuMsPerSend: cpuMs,
        graphqlFloorPerSecond: floor.perSecond,
        graphqlFloorCpuMsPerSend: floor.serverCpuMsPerSend,
        oneProcessBound: bound,
        failed,
      },
      line:
        `send throughput, ${plan.senders} senders over ${plan.channels} channels (closed loop, SendMessage over HTTP): ratio ${ratio.toFixed(2)} = ours ÷ store ceiling ` +
        `(ours ${Math.round(rate)}/s with ${cpuMs.toFixed(2)} ms server CPU per send, SqliteStore.appendMessage alone ${Math.round(ceiling)}/s); goal ≥ 0.5. ` +
        `Yoga with our schema doing nothing: ${Math.round(floor.perSecond)}/s (${floor.serverCpuMsPerSend.toFixed(2)} ms per send), so floor then store on one process bound the ratio at ${bound.toFixed(2)}${failures}`,
    });
  } finally {
    await ours.stop();
  }
}
