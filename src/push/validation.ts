// What a push registration may be: every field bounded and checked before anything is stored, so a
// registration that is accepted can be sent to.
import { createPublicKey } from 'node:crypto';
import type { PushConfig } from '../config.ts';
import type { PusherTarget, WebPushTarget } from '../domain/push.ts';
import { AppError } from '../errors.ts';

/** Longest push service endpoint or gateway URL accepted (browsers' are a few hundred characters). */
export const PUSH_URL_MAX = 2048;
/** The Matrix Client-Server API's bounds on a pusher's app_id and pushkey. */
const APP_ID_MAX = 64;
const PUSHKEY_MAX_BYTES = 512;
const DEVICE_ID_MAX = 200;
/** Where a Matrix push gateway listens; a gateway given by its origin alone is told there. */
export const GATEWAY_NOTIFY_PATH = '/_matrix/push/v1/notify';

/** The device a registration is for: the deviceId the app gives in connectionParams. */
export function validateDeviceId(deviceId: string, field = 'deviceId'): string {
  if (deviceId.trim().length === 0 || deviceId.length > DEVICE_ID_MAX) {
    throw AppError.badInput(field, `${field} must be 1–${DEVICE_ID_MAX} characters and not blank`);
  }
  return deviceId;
}

/** A URL of one of the protocols, without credentials, at most PUSH_URL_MAX characters. */
function validateUrl(raw: string, field: string, protocols: string[]): URL {
  if (raw.length > PUSH_URL_MAX) throw AppError.badInput(field, `${field} must be at most ${PUSH_URL_MAX} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw AppError.badInput(field, `${field} must be an absolute URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw AppError.badInput(field, `${field} must be an ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL`);
  }
  if (url.username || url.password) throw AppError.badInput(field, `${field} must not carry credentials`);
  return url;
}

/** base64url (padding allowed) of exactly `bytes` bytes. */
function decodeKey(raw: string, field: string, bytes: number): Buffer {
  const unpadded = raw.replace(/=+$/, '');
  const decoded = /^[A-Za-z0-9_-]+$/.test(unpadded) ? Buffer.from(unpadded, 'base64url') : Buffer.alloc(0);
  if (decoded.length !== bytes) throw AppError.badInput(field, `${field} must be base64url of ${bytes} bytes`);
  return decoded;
}

/** True when the 65 bytes are an uncompressed point on P-256 (else no message could be encrypted to it). */
function isP256Point(point: Buffer): boolean {
  if (point[0] !== 0x04) return false;
  try {
    const [x, y] = [point.subarray(1, 33), point.subarray(33)].map((half) => half.toString('base64url'));
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

/** A browser's PushSubscription: an https endpoint and its keys (RFC 8291: a P-256 key, a 16-byte secret). */
export function validateWebPush(input: { endpoint: string; p256dh: string; auth: string }): WebPushTarget {
  const endpoint = validateUrl(input.endpoint, 'endpoint', ['https:']);
  const p256dh = decodeKey(input.p256dh, 'p256dh', 65);
  if (!isP256Point(p256dh)) throw AppError.badInput('p256dh', 'p256dh must be an uncompressed P-256 public key');
  const auth = decodeKey(input.auth, 'auth', 16);
  return { kind: 'WEB_PUSH', endpoint: endpoint.href, p256dh: p256dh.toString('base64url'), auth: auth.toString('base64url') };
}

/** A Matrix pusher: the gateway's notify URL (https unless configured otherwise), app id and pushkey. */
export function validatePusher(input: { url: string; appId: string; pushkey: string }, config: PushConfig): PusherTarget {
  const url = validateUrl(input.url, 'url', config.allowHttpGateways ? ['https:', 'http:'] : ['https:']);
  if (url.pathname === '/' && !url.search) url.pathname = GATEWAY_NOTIFY_PATH;
  if (input.appId.trim().length === 0 || input.appId.length > APP_ID_MAX) {
    throw AppError.badInput('appId', `appId must be 1–${APP_ID_MAX} characters and not blank`);
  }
  const pushkeyBytes = Buffer.byteLength(input.pushkey, 'utf8');
  if (input.pushkey.trim().length === 0 || pushkeyBytes > PUSHKEY_MAX_BYTES) {
    throw AppError.badInput('pushkey', `pushkey must be 1–${PUSHKEY_MAX_BYTES} bytes and not blank`);
  }
  return { kind: 'PUSHER', url: url.href, appId: input.appId, pushkey: input.pushkey };
}
