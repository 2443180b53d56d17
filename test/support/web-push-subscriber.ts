// A browser's side of Web Push, for the tests: a subscription's keys (a P-256 key pair and an auth
// secret, as pushManager.subscribe makes them), and decrypting what a push service delivers
// (RFC 8291 on RFC 8188's aes128gcm), written here from the RFCs rather than with the library the
// server sends with. It also checks the VAPID signature (RFC 8292) the request carries.
import { createDecipheriv, createECDH, createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { importJWK, jwtVerify } from 'jose';

const hmac = (key: Buffer, ...data: Buffer[]) => createHmac('sha256', key).update(Buffer.concat(data)).digest();

export class WebPushSubscriber {
  private readonly ecdh = createECDH('prime256v1');
  readonly publicKey: Buffer;
  readonly authSecret = randomBytes(16);

  constructor() {
    this.publicKey = this.ecdh.generateKeys();
  }

  /** What the app registers: PushSubscription.toJSON() in registerWebPush's field names. */
  subscription(endpoint: string) {
    return { endpoint, p256dh: this.publicKey.toString('base64url'), auth: this.authSecret.toString('base64url') };
  }

  /** The plaintext of an aes128gcm body encrypted for this subscription (one record). */
  decrypt(body: Buffer): string {
    const salt = body.subarray(0, 16);
    const recordSize = body.readUInt32BE(16);
    const keyIdLength = body[20]!;
    const senderPublicKey = body.subarray(21, 21 + keyIdLength);
    const record = body.subarray(21 + keyIdLength);
    if (record.length > recordSize) throw new Error('more than one record');
    // RFC 8291 §3.3-3.4: the input keying material from the ECDH secret and the auth secret.
    const ecdhSecret = this.ecdh.computeSecret(senderPublicKey);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), this.publicKey, senderPublicKey]);
    const ikm = hmac(hmac(this.authSecret, ecdhSecret), keyInfo, Buffer.from([1]));
    // RFC 8188 §2.2-2.3: the content-encryption key and nonce from the salt.
    const prk = hmac(salt, ikm);
    const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.from([1])).subarray(0, 16);
    const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0'), Buffer.from([1])).subarray(0, 12);
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(-16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
    let end = padded.length - 1;
    while (end > 0 && padded[end] === 0) end--;
    if (padded[end] !== 2) throw new Error('the last record does not end with the 0x02 delimiter');
    return padded.subarray(0, end).toString('utf8');
  }
}

/** Verifies the request's VAPID authorization (vapid t=<JWT>, k=<key>) for the service's origin; the JWT's claims. */
export async function verifyVapid(headers: IncomingHttpHeaders, origin: string, expectedKey: string) {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(headers.authorization ?? '');
  if (!match) throw new Error(`no VAPID authorization: ${headers.authorization}`);
  const [, token, key] = match as unknown as [string, string, string];
  if (key !== expectedKey) throw new Error('the VAPID key is not the server’s');
  const point = Buffer.from(key, 'base64url');
  const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
  const { payload } = await jwtVerify(token, await importJWK(jwk, 'ES256'), { audience: origin });
  return payload;
}
