// Registering devices for notifications, as a browser and a phone app do it: what is accepted,
// what is refused (with BAD_USER_INPUT naming the field, storing nothing), and who sees what.
import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PushRegistrationsDocument,
  RegisterPusherDocument,
  RegisterWebPushDocument,
  UnregisterPushDocument,
  WebPushPublicKeyDocument,
} from '../../operations/generated/graphql.ts';
import { codes } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { WebPushSubscriber } from '../support/web-push-subscriber.ts';
import { organizationWith, signInUsers } from '../support/world.ts';

const vapid = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@chat.example' };
const browserSubscription = (endpoint = `https://push.example.net/wpush/v2/${randomBytes(12).toString('base64url')}`) =>
  new WebPushSubscriber().subscription(endpoint);
const pusher = (extra: Partial<{ url: string; appId: string; pushkey: string }> = {}) => ({
  url: 'https://sygnal.example.com/_matrix/push/v1/notify',
  appId: 'com.example.chat.android',
  pushkey: randomBytes(24).toString('base64url'),
  ...extra,
});

describe('push registrations', () => {
  let server: TestServer;
  let bare: TestServer;
  beforeAll(async () => {
    server = await startServer({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: vapid.subject });
    bare = await startServer({ PUSH_ALLOW_HTTP_GATEWAYS: 'true' });
  });
  afterAll(async () => {
    await server?.stop();
    await bare?.stop();
  });

  it("gives apps the server's VAPID public key, or null when Web Push is not configured", async () => {
    const { ann } = await signInUsers(server.url, ['ann']);
    expect(await ann!.run(WebPushPublicKeyDocument)).toEqual({ webPushPublicKey: vapid.publicKey });
    const { ann: elsewhere } = await signInUsers(bare.url, ['ann']);
    expect(await elsewhere!.run(WebPushPublicKeyDocument)).toEqual({ webPushPublicKey: null });
    const refused = await elsewhere!.request(RegisterWebPushDocument, { input: { deviceId: 'browser', ...browserSubscription() } });
    expect(codes(refused)).toEqual(['FORBIDDEN']);
  });

  it('keeps one registration per device, replaced when the device registers again, and lists only the viewer’s own', async () => {
    const { ann } = await signInUsers(server.url, ['ann']);
    const web = await ann!.run(RegisterWebPushDocument, { input: { deviceId: 'laptop', ...browserSubscription() } });
    expect(web.registerWebPush).toEqual({ deviceId: 'laptop', kind: 'WEB_PUSH', createdAt: expect.any(String) });
    await ann!.run(RegisterPusherDocument, { input: { deviceId: 'phone', ...pusher() } });
    await ann!.run(RegisterPusherDocument, { input: { deviceId: 'laptop', ...pusher() } });
    const { me } = await ann!.run(PushRegistrationsDocument);
    expect(me.pushRegistrations.map((r) => [r.deviceId, r.kind])).toEqual([
      ['laptop', 'PUSHER'],
      ['phone', 'PUSHER'],
    ]);
  });

  it("refuses to show anyone else's registrations", async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob']);
    await users.bob!.run(RegisterPusherDocument, { input: { deviceId: 'phone', ...pusher() } });
    const result = await users.ann!.request<{ node: { pushRegistrations: unknown[] } | null }, { id: string }>(
      'query($id: ID!) { node(id: $id) { ... on User { pushRegistrations { deviceId } } } }',
      { id: users.bob!.id },
    );
    expect(codes(result)).toEqual(['FORBIDDEN']);
  });

  it('moves a push target to whoever registered it last (a shared phone now signed in as someone else)', async () => {
    const { ann, bob } = await signInUsers(server.url, ['ann', 'bob']);
    const phone = pusher();
    await ann!.run(RegisterPusherDocument, { input: { deviceId: 'shared-phone', ...phone } });
    await bob!.run(RegisterPusherDocument, { input: { deviceId: 'shared-phone', ...phone } });
    expect((await ann!.run(PushRegistrationsDocument)).me.pushRegistrations).toEqual([]);
    expect((await bob!.run(PushRegistrationsDocument)).me.pushRegistrations).toHaveLength(1);
  });

  it('unregisters a device, saying whether it had a registration', async () => {
    const { ann } = await signInUsers(server.url, ['ann']);
    await ann!.run(RegisterWebPushDocument, { input: { deviceId: 'tablet', ...browserSubscription() } });
    expect(await ann!.run(UnregisterPushDocument, { input: { deviceId: 'tablet' } })).toEqual({ unregisterPush: true });
    expect(await ann!.run(UnregisterPushDocument, { input: { deviceId: 'tablet' } })).toEqual({ unregisterPush: false });
    expect((await ann!.run(PushRegistrationsDocument)).me.pushRegistrations).toEqual([]);
  });

  const key = (bytes: number, first = 4) => Buffer.concat([Buffer.from([first]), randomBytes(bytes - 1)]).toString('base64url');
  it.each([
    ['an http endpoint', { endpoint: 'http://push.example.net/x' }, 'endpoint'],
    ['an endpoint that is not a URL', { endpoint: 'push.example.net/x' }, 'endpoint'],
    ['an endpoint over 2048 characters', { endpoint: `https://push.example.net/${'a'.repeat(2048)}` }, 'endpoint'],
    ['an endpoint with credentials', { endpoint: 'https://user:secret@push.example.net/x' }, 'endpoint'],
    ['a p256dh of 64 bytes', { p256dh: randomBytes(64).toString('base64url') }, 'p256dh'],
    ['a p256dh that is no point of P-256', { p256dh: key(65) }, 'p256dh'],
    ['a p256dh that is not base64url', { p256dh: '!'.repeat(87) }, 'p256dh'],
    ['an auth secret of 15 bytes', { auth: randomBytes(15).toString('base64url') }, 'auth'],
    ['a blank deviceId', { deviceId: ' ' }, 'deviceId'],
    ['a deviceId of 201 characters', { deviceId: 'd'.repeat(201) }, 'deviceId'],
  ])('refuses a Web Push subscription with %s', async (_what, change, field) => {
    const { ann } = await signInUsers(server.url, ['ann']);
    const result = await ann!.request(RegisterWebPushDocument, { input: { deviceId: 'browser', ...browserSubscription(), ...change } });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions!.field).toBe(field);
    expect((await ann!.run(PushRegistrationsDocument)).me.pushRegistrations).toEqual([]);
  });

  it.each([
    ['an http gateway', { url: 'http://sygnal.internal:5000/_matrix/push/v1/notify' }, 'url'],
    ['a gateway URL that is not a URL', { url: 'sygnal' }, 'url'],
    ['an appId over 64 characters', { appId: 'a'.repeat(65) }, 'appId'],
    ['a blank appId', { appId: '' }, 'appId'],
    ['a pushkey over 512 bytes', { pushkey: 'é'.repeat(257) }, 'pushkey'],
    ['a blank pushkey', { pushkey: '' }, 'pushkey'],
  ])('refuses a pusher with %s', async (_what, change, field) => {
    const { ann } = await signInUsers(server.url, ['ann']);
    const result = await ann!.request(RegisterPusherDocument, { input: { deviceId: 'phone', ...pusher(change) } });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions!.field).toBe(field);
    expect((await ann!.run(PushRegistrationsDocument)).me.pushRegistrations).toEqual([]);
  });

  it('accepts an http gateway where the configuration allows it (a gateway on the same network)', async () => {
    const { ann } = await signInUsers(bare.url, ['ann']);
    const result = await ann!.run(RegisterPusherDocument, { input: { deviceId: 'phone', ...pusher({ url: 'http://sygnal.internal:5000/_matrix/push/v1/notify' }) } });
    expect(result.registerPusher.kind).toBe('PUSHER');
  });

  it('refuses registrations past the hourly allowance with RATE_LIMITED', async () => {
    const { ann } = await signInUsers(bare.url, ['ann']);
    const allowance = bare.deps.config.limits.rates.push.points;
    for (let i = 0; i < allowance; i++) await ann!.run(UnregisterPushDocument, { input: { deviceId: `device-${i}` } });
    const refused = await ann!.request(RegisterPusherDocument, { input: { deviceId: 'phone', ...pusher() } });
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect((await ann!.run(PushRegistrationsDocument)).me.pushRegistrations).toEqual([]);
  });

  it('refuses more devices than the limit, and still lets a registered device register again', async () => {
    const { ann } = await signInUsers(server.url, ['ann']);
    const max = server.deps.config.limits.pushRegistrationsPerUser;
    for (let i = 0; i < max; i++) await ann!.run(RegisterPusherDocument, { input: { deviceId: `device-${i}`, ...pusher() } });
    const refused = await ann!.request(RegisterPusherDocument, { input: { deviceId: 'one-too-many', ...pusher() } });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    await ann!.run(RegisterPusherDocument, { input: { deviceId: 'device-0', ...pusher() } });
    expect((await ann!.run(PushRegistrationsDocument)).me.pushRegistrations).toHaveLength(max);
  });
});
