// Clients as an app behind the load balancer behaves: listeners that reconnect by themselves and
// resume with afterSeq, senders that send again (same clientMessageId) after a retryable failure,
// and the channel's history as the store keeps it, to compare what everyone received with.
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { ChannelMessagesAfterDocument, MessageAddedDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import type { Received } from '../multiprocess/cluster.ts';
import { wsClient } from '../support/client.ts';
import { waitUntil } from '../support/wait.ts';
import type { Member } from '../support/world.ts';

/** A device following a channel through the balancer; after any drop it reconnects and resumes after the last seq it got. */
export function resumingListener(wsUrl: string, member: Member, channelId: string, deviceId: string) {
  const received: Received[] = [];
  let connections = 0;
  const errors: unknown[] = [];
  const client: Client = wsClient(wsUrl, member.token, deviceId, {
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200)),
    on: { connected: () => connections++ },
  });
  // graphql-ws sends this same payload again on every reconnect: moving afterSeq is the resume.
  const variables = { channelId, afterSeq: 0 };
  const stop = client.subscribe<{ messageAdded: Received }>(
    { query: print(MessageAddedDocument), variables },
    {
      next: (value) => {
        if (value.errors || !value.data) return void errors.push(value.errors);
        received.push(value.data.messageAdded);
        variables.afterSeq = value.data.messageAdded.seq;
      },
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  return {
    deviceId,
    received,
    errors,
    /** How many times the device connected (1 = never reconnected). */
    connections: () => connections,
    async close() {
      stop();
      await client.dispose();
    },
  };
}
export type Listener = ReturnType<typeof resumingListener>;

/** Why a send was retried: a transport failure, a balancer's 5xx, or a retryable error code. */
export type RetryReason = string;

const RETRYABLE_CODES = new Set(['UNAVAILABLE', 'RATE_LIMITED']);

/**
 * Sends texts one after the other until stopped, each with its own clientMessageId, sending the
 * same again after a retryable failure (connection refused or reset while a process restarts,
 * 502/503 from the balancer, UNAVAILABLE, RATE_LIMITED). Any other failure ends it.
 */
export function steadySender(member: Member, channelId: string, name: string, pauseMs = 20) {
  const sent: string[] = [];
  const retries = new Map<RetryReason, number>();
  let stopping = false;
  const retried = (reason: RetryReason) => retries.set(reason, (retries.get(reason) ?? 0) + 1);

  async function sendOnce(text: string, clientMessageId: string): Promise<void> {
    for (;;) {
      let response: Response;
      try {
        response = await fetch(member.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${member.token}` },
          body: JSON.stringify({ query: print(SendMessageDocument), variables: { input: { channelId, text, clientMessageId } } }),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        retried(`transport ${cause}`);
        await pause(50);
        continue;
      }
      if (response.status >= 502 && response.status <= 504) {
        await response.text();
        retried(`balancer ${response.status}`);
        await pause(50);
        continue;
      }
      const body = (await response.json()) as { data?: { sendMessage?: { seq: number } }; errors?: { extensions?: { code?: string } }[] };
      if (body.data?.sendMessage) return;
      const code = body.errors?.[0]?.extensions?.code ?? `HTTP ${response.status}`;
      if (!RETRYABLE_CODES.has(code)) throw new Error(`send ${clientMessageId} failed with a code that is not retryable: ${JSON.stringify(body)}`);
      retried(code);
      await pause(50);
    }
  }

  const running = (async () => {
    for (let i = 1; !stopping; i++) {
      const text = `${name}-${i}`;
      await sendOnce(text, `${name}-${i}-id`);
      sent.push(text);
      await pause(pauseMs);
    }
  })();

  return {
    sent,
    retries,
    /** Stops after the send in progress has succeeded; rejects if a send failed for good. */
    async stop() {
      stopping = true;
      await running;
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The channel's whole history as the store has it, in seq order. */
export async function storedHistory(member: Member, channelId: string): Promise<{ seq: number; text: string }[]> {
  const history: { seq: number; text: string }[] = [];
  let after: string | null | undefined;
  for (;;) {
    const { channel } = await member.run(ChannelMessagesAfterDocument, { channelId, first: 100, after });
    const { edges, pageInfo } = channel!.messages;
    history.push(...edges.map((e) => ({ seq: e.node.seq, text: e.node.text })));
    if (!pageInfo.hasNextPage) return history;
    after = edges.at(-1)!.cursor;
  }
}

/** Waits until every listener has received up to the last stored seq; returns what each received. */
export async function whenAllCaughtUp(listeners: Listener[], lastSeq: number) {
  await waitUntil(() => listeners.every((l) => (l.received.at(-1)?.seq ?? 0) >= lastSeq), `every listener to receive up to seq ${lastSeq}`, {
    timeoutMs: 30_000,
  });
  return listeners.map((l) => ({ deviceId: l.deviceId, history: l.received.map((m) => ({ seq: m.seq, text: m.text })) }));
}
