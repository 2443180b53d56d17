// PushRegistration: where a device is told while away; Query.webPushPublicKey, User.pushRegistrations
// and the mutations that register and unregister a device.
import { builder } from '../src/builder.ts';
import type { PushRegistration } from '../src/domain/push.ts';
import { pushRegistrationsOf, registerPusher, registerWebPush, unregisterPush } from '../src/push/registrations.ts';
import { UserRef, VIEWER_SPECIFIC } from './refs.ts';

const PushKind = builder.enumType('PushKind', {
  values: {
    WEB_PUSH: { description: "A browser's Web Push subscription (VAPID, RFC 8291)." },
    PUSHER: { description: "A native app's pusher in the Matrix push-gateway protocol (e.g. Sygnal for APNs / FCM)." },
  } as const,
});

const PushRegistrationRef = builder.objectRef<PushRegistration>('PushRegistration').implement({
  description: "Where one of the viewer's devices is told about mentions and direct messages while it is away.",
  fields: (t) => ({
    deviceId: t.exposeString('deviceId'),
    kind: t.field({ type: PushKind, resolve: (registration) => registration.kind }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const RegisterWebPushInput = builder.inputType('RegisterWebPushInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true, description: 'The device this browser is (the deviceId it gives in graphql-ws connectionParams).' }),
    endpoint: t.string({ required: true, description: 'PushSubscription.endpoint' }),
    p256dh: t.string({ required: true, description: 'PushSubscription keys.p256dh (base64url)' }),
    auth: t.string({ required: true, description: 'PushSubscription keys.auth (base64url)' }),
  }),
});

const RegisterPusherInput = builder.inputType('RegisterPusherInput', {
  fields: (t) => ({
    deviceId: t.string({ required: true }),
    url: t.string({ required: true, description: "The push gateway's notify URL, e.g. https://push.example.com/_matrix/push/v1/notify" }),
    appId: t.string({ required: true }),
    pushkey: t.string({ required: true }),
  }),
});

const DeviceInput = builder.inputType('DeviceInput', {
  fields: (t) => ({ deviceId: t.string({ required: true }) }),
});

builder.objectField(UserRef, 'pushRegistrations', (t) =>
  t.field({
    type: [PushRegistrationRef],
    extensions: VIEWER_SPECIFIC,
    description: "Where the viewer's devices are told while away (only on the viewer's own User).",
    resolve: (user, _args, ctx) => pushRegistrationsOf(ctx, user.id),
  }),
);

builder.queryFields((t) => ({
  webPushPublicKey: t.string({
    nullable: true,
    description: "The server's VAPID public key (base64url) for pushManager.subscribe; null when Web Push is not configured.",
    resolve: (_root, _args, ctx) => ctx.deps.config.push.vapid?.publicKey ?? null,
  }),
}));

builder.mutationFields((t) => ({
  registerWebPush: t.field({
    type: PushRegistrationRef,
    description: "Registers a browser's Web Push subscription for a device; registering a device again replaces its registration.",
    args: { input: t.arg({ type: RegisterWebPushInput, required: true }) },
    resolve: (_root, { input }, ctx) => registerWebPush(ctx, input),
  }),
  registerPusher: t.field({
    type: PushRegistrationRef,
    description: "Registers a native app's pusher (a Matrix push gateway) for a device; registering a device again replaces its registration.",
    args: { input: t.arg({ type: RegisterPusherInput, required: true }) },
    resolve: (_root, { input }, ctx) => registerPusher(ctx, input),
  }),
  unregisterPush: t.boolean({
    description: "Removes the device's push registration (whichever kind); false when it had none.",
    args: { input: t.arg({ type: DeviceInput, required: true }) },
    resolve: (_root, { input }, ctx) => unregisterPush(ctx, input),
  }),
}));
