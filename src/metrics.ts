// Prometheus metrics of one process, served at /metrics.
import client from 'prom-client';

export interface Metrics {
  registry: client.Registry;
  messagesSent: client.Counter;
  deliveries: client.Counter;
  connections: client.Gauge;
  subscriptions: client.Gauge;
  feeds: client.Gauge;
  eventExecutions: client.Counter;
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    messagesSent: new client.Counter({ name: 'chat_messages_sent_total', help: 'Messages stored by this process', registers: [registry] }),
    deliveries: new client.Counter({
      name: 'chat_deliveries_total',
      help: 'Subscription events sent to clients by this process',
      registers: [registry],
    }),
    connections: new client.Gauge({ name: 'chat_ws_connections', help: 'Open graphql-ws connections', registers: [registry] }),
    subscriptions: new client.Gauge({ name: 'chat_subscriptions', help: 'Active subscriptions', registers: [registry] }),
    feeds: new client.Gauge({ name: 'chat_channel_feeds', help: 'Channels this process listens to', registers: [registry] }),
    eventExecutions: new client.Counter({
      name: 'chat_subscription_executions_total',
      help: 'Subscription events executed (subscribers with the same viewer-independent document share one)',
      registers: [registry],
    }),
  };
}
