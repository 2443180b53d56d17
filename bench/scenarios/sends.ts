// Send throughput (ours only): many senders over many channels, each sending its next message as
// soon as the last one is answered (closed loop), through HTTP with the client app's SendMessage
// document, on one server process. The reference, measured in the same run: the store's own
// ceiling on a fresh file of the same shape (seed/sends.ts). ratio = ours ÷ store ceiling
// (higher is better; 1.00 = the GraphQL server adds nothing to what the store costs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toGlobalId } from '../../src/domain/ids.ts';
import { progress } from '../lib/log.ts';
import { serversCpuSeconds } from '../lib/proc.ts';
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

export async function runSends(redis: { url: string; flush(): Promise<void> }, plan: SendsPlan, emit: (observation: Observation) => void): Promise<void> {
  const ceiling = await storeCeiling(plan);
  await redis.flush();
  progress(`sends: starting ours, then ${plan.senders} senders over ${plan.channels} channels for ${plan.seconds} s`);
  const ours = await startOurs(1, redis.url, sendsPlan(plan.senders, plan.channels));
  try {
    const channelIds = ours.seeded.channelIds.map((id) => toGlobalId('Channel', id));
    const tokens = await Promise.all(Array.from({ length: plan.senders }, (_, s) => ours.token(benchUser(s))));
    const warmupEnd = Date.now() + plan.warmupSeconds * 1000;
    const end = warmupEnd + plan.seconds * 1000;
    let counted = 0;
    let failed = 0;
    let firstError: string | undefined;
    let cpuBefore = 0;
    let clientCpuBefore = process.cpuUsage();
    const cpuAtWarmupEnd = setTimeout(() => {
      cpuBefore = serversCpuSeconds(ours.servers);
      clientCpuBefore = process.cpuUsage();
    }, plan.warmupSeconds * 1000);
    const sender = async (s: number) => {
      for (let j = 0; Date.now() < end; j++) {
        const { text, clientMessageId } = sendTextOf(s, j);
        const channelId = channelIds[sendChannelOf(s, j, plan.senders, channelIds.length)]!;
        try {
          await sendMessage(ours.api, tokens[s]!, { channelId, text, clientMessageId });
          // A send counts when it is answered inside the measured window.
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
    const cpuMs = ((serversCpuSeconds(ours.servers) - cpuBefore) * 1000) / Math.max(counted, 1);
    // The senders share the machine with the server: say what they cost, so a starved server shows.
    const client = process.cpuUsage(clientCpuBefore);
    progress(`sends: ${counted} sends counted; the senders used ${((client.user + client.system) / 1000 / Math.max(counted, 1)).toFixed(2)} ms CPU per send, the server ${cpuMs.toFixed(2)} ms`);
    const rate = counted / plan.seconds;
    const ratio = rate / ceiling;
    const failures = failed > 0 ? `; ${failed} sends failed (${firstError?.slice(0, 120)})` : '';
    emit({
      kind: 'observation',
      title: 'send throughput',
      values: { senders: plan.senders, channels: plan.channels, seconds: plan.seconds, perSecond: rate, storeCeilingPerSecond: ceiling, ratio, serverCpuMsPerSend: cpuMs, failed },
      line:
        `send throughput, ${plan.senders} senders over ${plan.channels} channels (closed loop, SendMessage over HTTP): ratio ${ratio.toFixed(2)} = ours ÷ store ceiling ` +
        `(ours ${Math.round(rate)}/s with ${cpuMs.toFixed(2)} ms server CPU per send, SqliteStore.appendMessage alone ${Math.round(ceiling)}/s); goal ≥ 0.5${failures}`,
    });
  } finally {
    await ours.stop();
  }
}
