// One subscribed connection to one master of the cluster: the SSUBSCRIBEs of the topics whose
// slots that master owns. ioredis' own resubscription is off: after a lost connection the bus
// decides where each topic belongs now (the master may have failed over) and subscribes there.
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

/** How long an SSUBSCRIBE may wait for the connection and its answer before the bus tries again. */
const SUBSCRIBE_TIMEOUT_MS = 1000;

export interface ShardEvents {
  message(node: string, topic: string, text: string): void;
  /** The connection closed: none of its subscriptions is in force any more. */
  lost(node: string): void;
}

export class ShardSubscriber {
  private readonly redis: Redis;
  private closed = false;
  /** The first connection, which every SSUBSCRIBE sent meanwhile waits for. */
  private readonly firstConnection: Promise<void>;

  constructor(
    readonly node: string,
    events: ShardEvents,
    logger: Logger,
  ) {
    const [host, port] = splitNode(node);
    this.redis = new Redis({
      host,
      port,
      autoResubscribe: false,
      // An SSUBSCRIBE fails at once while the master is out of reach: the bus reads the slot map
      // again and tries the master it names then (a replica, once promoted).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
    });
    this.redis.on('error', (error) => logger.debug({ err: error, node }, 'redis cluster subscriber connection error'));
    this.redis.on('smessage', (topic: string, text: string) => events.message(node, topic, text));
    this.redis.on('close', () => {
      if (!this.closed) events.lost(node);
    });
    this.firstConnection = new Promise<void>((resolve, reject) => {
      const ready = () => {
        this.redis.off('close', closed);
        resolve();
      };
      const closed = () => {
        this.redis.off('ready', ready);
        reject(new Error(`no connection to ${node}`));
      };
      this.redis.once('ready', ready);
      this.redis.once('close', closed);
    });
    this.firstConnection.catch(() => undefined); // each SSUBSCRIBE waiting for it gets the failure
  }

  /** Resolves once the master has answered: from then on what is published there reaches us. */
  async subscribe(topic: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.connected().then(() => this.redis.ssubscribe(topic)),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer to SSUBSCRIBE from ${this.node}`)), SUBSCRIBE_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when the connection is up; waits for a first connection, fails while reconnecting. */
  private async connected(): Promise<void> {
    const { status } = this.redis;
    if (status === 'ready') return;
    if (status !== 'wait' && status !== 'connecting' && status !== 'connect') throw new Error(`no connection to ${this.node} (${status})`);
    await this.firstConnection;
  }

  async unsubscribe(topic: string): Promise<void> {
    if (this.redis.status !== 'ready') return; // a closed connection holds nothing
    await this.redis.sunsubscribe(topic).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    // SUNSUBSCRIBEs sent just before: a PING behind them is answered after them, so none is
    // rejected unhandled when the socket goes.
    if (this.redis.status === 'ready') await this.redis.ping().catch(() => undefined);
    this.redis.disconnect();
  }
}

/** "host:port" (ioredis' node key; an IPv6 host has colons of its own) into its parts. */
function splitNode(node: string): [string, number] {
  const at = node.lastIndexOf(':');
  return [node.slice(0, at), Number(node.slice(at + 1))];
}
