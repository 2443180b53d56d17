// Use cases of push registrations: a device registers where it is told while away (Web Push or a
// Matrix pusher), registers again to replace that, or unregisters; the viewer lists their own.
import type { RequestContext } from '../context.ts';
import { newId } from '../domain/ids.ts';
import type { PushRegistration, PushTarget } from '../domain/push.ts';
import { AppError } from '../errors.ts';
import { StoreError } from '../store/store.ts';
import { validateDeviceId, validatePusher, validateWebPush } from './validation.ts';

export interface RegisterWebPushInput {
  deviceId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface RegisterPusherInput {
  deviceId: string;
  url: string;
  appId: string;
  pushkey: string;
}

/** Stores the viewer's registration for the device, replacing the one it had. */
async function register(ctx: RequestContext, deviceId: string, target: PushTarget): Promise<PushRegistration> {
  const registration: PushRegistration = { ...target, id: newId('push'), userId: ctx.viewer.id, deviceId, createdAt: new Date() };
  const max = ctx.deps.config.limits.pushRegistrationsPerUser;
  await ctx.deps.rateLimits.push.take(ctx.viewer.id);
  // Two registrations of one target racing on a store without transactions: the unique index
  // decides, and the loser simply registers again (it is the later one).
  for (let attempt = 0; ; attempt++) {
    try {
      if (!(await ctx.deps.store.savePushRegistration(registration, max))) {
        throw AppError.badInput('deviceId', `At most ${max} devices may be registered for notifications; unregister one first`);
      }
      return registration;
    } catch (error) {
      if (!(error instanceof StoreError && error.kind === 'duplicate') || attempt > 0) throw error;
    }
  }
}

/** Registers a browser's Web Push subscription for one of the viewer's devices. */
export async function registerWebPush(ctx: RequestContext, input: RegisterWebPushInput): Promise<PushRegistration> {
  const deviceId = validateDeviceId(input.deviceId);
  const target = validateWebPush(input);
  if (!ctx.deps.config.push.vapid) throw AppError.forbidden('This server does not send Web Push: it has no VAPID key (webPushPublicKey is null)');
  return register(ctx, deviceId, target);
}

/** Registers a native app's pusher (a Matrix push gateway) for one of the viewer's devices. */
export async function registerPusher(ctx: RequestContext, input: RegisterPusherInput): Promise<PushRegistration> {
  const deviceId = validateDeviceId(input.deviceId);
  return register(ctx, deviceId, validatePusher(input, ctx.deps.config.push));
}

/** Removes the device's registration, whichever kind; false when it had none. */
export async function unregisterPush(ctx: RequestContext, input: { deviceId: string }): Promise<boolean> {
  const deviceId = validateDeviceId(input.deviceId);
  await ctx.deps.rateLimits.push.take(ctx.viewer.id);
  return ctx.deps.store.deletePushRegistration(ctx.viewer.id, deviceId);
}

/** The registrations of the viewer's devices; nobody else's are shown to anyone. */
export async function pushRegistrationsOf(ctx: RequestContext, userId: string): Promise<PushRegistration[]> {
  if (userId !== ctx.viewer.id) throw AppError.forbidden("Only the viewer's own push registrations can be listed");
  return ctx.deps.store.listPushRegistrations([userId]);
}
