// Prometheus metrics of one process, served at /metrics.
import client from 'prom-client';

/** A counter bumped once per subscriber per event: a plain number, handed to Prometheus when scraped. */
export interface HotCounter {
  inc(): void;
}

/** Notifications for devices that are away (src/push/), per kind of registration where it applies. */
export interface PushMetrics {
  /** Notifications written to the outbox (one per member and message; collapsing happens later). */
  queued: client.Counter;
  /** Notifications a push service or gateway accepted. */
  sent: client.Counter<'kind'>;
  /** Notifications given up on: refused for good, or still failing after the last retry. */
  failed: client.Counter<'kind'>;
  /** Notifications scheduled again after a 5xx, a 429 or a network error. */
  retried: client.Counter<'kind'>;
  /** Registrations removed because the push service or gateway said they are gone. */
  removed: client.Counter<'kind'>;
  /** Notifications not sent because the member came online, read the channel, left it or has no device registered. */
  cancelled: client.Counter<'reason'>;
}

export interface Metrics {
  registry: client.Registry;
  messagesSent: client.Counter;
  deliveries: HotCounter;
  connections: client.Gauge;
  subscriptions: client.Gauge;
  feeds: client.Gauge;
  eventExecutions: HotCounter;
  push: PushMetrics;
}

/** prom-client's inc() allocates on every call; on a fan-out of 50,000 that is garbage for nothing. */
function hotCounter(registry: client.Registry, name: string, help: string): HotCounter {
  let uncounted = 0;
  new client.Counter({
    name,
    help,
    registers: [registry],
    collect() {
      if (uncounted > 0) this.inc(uncounted);
      uncounted = 0;
    },
  });
  return {
    inc() {
      uncounted++;
    },
  };
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    messagesSent: new client.Counter({ name: 'chat_messages_sent_total', help: 'Messages stored by this process', registers: [registry] }),
    deliveries: hotCounter(registry, 'chat_deliveries_total', 'Subscription events sent to clients by this process'),
    connections: new client.Gauge({ name: 'chat_ws_connections', help: 'Open graphql-ws connections', registers: [registry] }),
    subscriptions: new client.Gauge({ name: 'chat_subscriptions', help: 'Active subscriptions', registers: [registry] }),
    feeds: new client.Gauge({ name: 'chat_channel_feeds', help: 'Channels this process listens to', registers: [registry] }),
    eventExecutions: hotCounter(
      registry,
      'chat_subscription_executions_total',
      'Subscription events executed (subscribers with the same viewer-independent document share one)',
    ),
    push: {
      queued: new client.Counter({ name: 'chat_push_queued_total', help: 'Notifications written to the outbox', registers: [registry] }),
      sent: new client.Counter({ name: 'chat_push_sent_total', help: 'Notifications accepted by a push service or gateway', labelNames: ['kind'], registers: [registry] }),
      failed: new client.Counter({ name: 'chat_push_failed_total', help: 'Notifications given up on', labelNames: ['kind'], registers: [registry] }),
      retried: new client.Counter({ name: 'chat_push_retried_total', help: 'Notifications scheduled again after a failure worth retrying', labelNames: ['kind'], registers: [registry] }),
      removed: new client.Counter({ name: 'chat_push_removed_total', help: 'Registrations removed as gone or rejected', labelNames: ['kind'], registers: [registry] }),
      cancelled: new client.Counter({ name: 'chat_push_cancelled_total', help: 'Notifications not sent, by reason', labelNames: ['reason'], registers: [registry] }),
    },
  };
}
