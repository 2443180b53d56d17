// Web Push (RFC 8030) with the web-push library: the payload encrypted for the browser's keys
// (RFC 8291, aes128gcm), signed with the server's VAPID key (RFC 8292), with a TTL, an urgency and
// a Topic so a newer notification about the same channel replaces one still waiting.
import webpush from 'web-push';
import type { VapidConfig } from '../config.ts';
import type { WebPushTarget } from '../domain/push.ts';
import { type DeliveryOutcome, SEND_TIMEOUT_MS, outcomeOfStatus } from './delivery.ts';

/** How long a push service keeps a notification for a device that is off: after a day it is stale. */
const TTL_SECONDS = 86_400;

/** RFC 8030: 404 and 410 say the subscription has expired or was never there. */
const GONE = [404, 410];

export interface WebPushMessage {
  payload: string;
  topic: string;
}

/** Sends one notification to one subscription and says what came of it. */
export async function sendWebPush(target: WebPushTarget, message: WebPushMessage, vapid: VapidConfig): Promise<DeliveryOutcome> {
  try {
    await webpush.sendNotification(
      { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
      message.payload,
      {
        vapidDetails: vapid,
        TTL: TTL_SECONDS,
        urgency: 'high',
        topic: message.topic,
        contentEncoding: 'aes128gcm',
        timeout: SEND_TIMEOUT_MS,
      },
    );
    return { kind: 'sent' };
  } catch (error) {
    if (error instanceof webpush.WebPushError) return outcomeOfStatus(error.statusCode, error.headers['retry-after'], GONE);
    return { kind: 'retry', reason: (error as Error).message ?? String(error), retryAfterMs: null };
  }
}
