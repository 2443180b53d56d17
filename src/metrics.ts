// Prometheus metrics of one process, served at /metrics.
import client from 'prom-client';

/** A counter bumped once per subscriber per event: a plain number, handed to Prometheus when scraped. */
export interface HotCounter {
  inc(): void;
}

export interface Metrics {
  registry: client.Registry;
  messagesSent: client.Counter;
  deliveries: HotCounter;
  connections: client.Gauge;
  subscriptions: client.Gauge;
  feeds: client.Gauge;
  eventExecutions: HotCounter;
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
  };
}
