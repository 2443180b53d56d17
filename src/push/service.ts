// Notifications for devices that are away, as one part of a process: the deriver deciding who is
// due from the message log, and the outbox worker telling their devices, each on its own timer.
// The send path only calls messageStored(), which does no I/O.
import { randomUUID } from 'node:crypto';
import type { PushConfig } from '../config.ts';
import type { Channel, Message } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import type { PushMetrics } from '../metrics.ts';
import type { PresenceTracker } from '../realtime/presence.ts';
import type { Store } from '../store/store.ts';
import { OutboxDeriver, mayNotify } from './deriver.ts';
import { OutboxWorker } from './outbox-worker.ts';

export class PushService {
  /** This process's name on the outbox entries and the log scan it holds. */
  readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly deriver: OutboxDeriver;
  private readonly worker: OutboxWorker;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(store: Store, presence: PresenceTracker, config: PushConfig, metrics: PushMetrics, logger: Logger) {
    this.deriver = new OutboxDeriver(store, config, metrics, logger, this.owner);
    this.worker = new OutboxWorker(store, presence, config, metrics, logger, this.owner);
    // Start-up scans at once: it finds what was sent while no process was deciding.
    void this.deriver.scan();
    this.every(config.scanMs, () => void this.deriver.scan());
    this.every(config.pollMs, () => void this.worker.poll());
  }

  private every(ms: number, run: () => void): void {
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** A message was stored: when it may notify someone, its channel is decided soon. */
  messageStored(channel: Channel, message: Message): void {
    if (mayNotify(channel, message)) this.deriver.notify(channel.id);
  }

  /** Stops deciding and claiming; waits for the sends in progress (what is not settled is taken over later). */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.deriver.close();
    await this.worker.close();
  }
}
