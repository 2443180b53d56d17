// What the push tests share: a Web Push service and a push gateway of their own, a server's
// settings for them, and a person's devices registered as a browser and a phone app would.
import { randomUUID } from 'node:crypto';
import webpush from 'web-push';
import { RegisterPusherDocument, RegisterWebPushDocument } from '../../operations/generated/graphql.ts';
import { metricSum, metricValue } from '../support/metrics.ts';
import {
  type GatewayNotification,
  type RecordingService,
  type TestCertificate,
  makeTestCertificate,
  startPushGateway,
  startWebPushService,
} from '../support/push-services.ts';
import { WebPushSubscriber } from '../support/web-push-subscriber.ts';
import type { Member } from '../support/world.ts';

export interface PushWorld {
  certificate: TestCertificate;
  pushService: RecordingService;
  gateway: RecordingService;
  vapid: { publicKey: string; privateKey: string; subject: string };
  /** The environment of a server process that tells devices through these two. */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startPushWorld(): Promise<PushWorld> {
  const certificate = makeTestCertificate();
  const [pushService, gateway] = await Promise.all([startWebPushService(certificate), startPushGateway(certificate)]);
  const vapid = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@chat.example' };
  return {
    certificate,
    pushService,
    gateway,
    vapid,
    env: (extra = {}) => ({
      NODE_EXTRA_CA_CERTS: certificate.certPath,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: vapid.subject,
      PUSH_POLL_MS: '50',
      PUSH_RETRY_BASE_MS: '200',
      PRESENCE_GRACE_MS: '100',
      ...extra,
    }),
    async close() {
      await Promise.all([pushService.close(), gateway.close()]);
      certificate.remove();
    },
  };
}

/** A browser of the member, subscribed to the test's push service and registered for a device. */
export async function registerBrowser(world: PushWorld, member: Member, deviceId = `browser-${randomUUID()}`) {
  const subscriber = new WebPushSubscriber();
  const path = `/push/${randomUUID()}`;
  await member.run(RegisterWebPushDocument, { input: { deviceId, ...subscriber.subscription(`${world.pushService.url}${path}`) } });
  return {
    deviceId,
    subscriber,
    /** The push messages the service received for this browser, in order. */
    requests: () => world.pushService.requests.filter((r) => r.path === path),
    /** Their payloads, decrypted as the browser would. */
    payloads: () => world.pushService.requests.filter((r) => r.path === path).map((r) => JSON.parse(subscriber.decrypt(r.body)) as WebPushPayload),
  };
}

/** A phone app of the member with a pusher at the test's gateway, registered for a device. */
export async function registerPhone(world: PushWorld, member: Member, deviceId = `phone-${randomUUID()}`) {
  const pushkey = `key-${randomUUID()}`;
  await member.run(RegisterPusherDocument, {
    input: { deviceId, url: `${world.gateway.url}/_matrix/push/v1/notify`, appId: 'com.example.chat.ios', pushkey },
  });
  const requests = () =>
    world.gateway.requests.filter((r) => (JSON.parse(r.body.toString('utf8')) as { notification: GatewayNotification }).notification.devices.some((d) => d.pushkey === pushkey));
  return {
    deviceId,
    pushkey,
    requests,
    notifications: () => requests().map((r) => (JSON.parse(r.body.toString('utf8')) as { notification: GatewayNotification }).notification),
  };
}

export interface WebPushPayload {
  kind: string;
  channelId: string;
  messageId: string;
  seq: number;
  sentAt: string;
  unreadCount: number;
  mentionCount: number;
  mentioned: boolean;
  channelKind?: string;
  channelName?: string;
  sender?: { id: string; name: string; displayName: string | null };
  text?: string;
}

/** A push counter of a server, summed over its labels (or those matching). */
export const pushCount = (server: { port: number }, name: 'queued' | 'sent' | 'failed' | 'retried' | 'removed' | 'cancelled', labels?: RegExp) =>
  name === 'queued' ? metricValue(server, 'chat_push_queued_total') : metricSum(server, `chat_push_${name}_total`, labels);
