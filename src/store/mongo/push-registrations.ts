// pushRegistrations: one document per (user, device), _id = the registration's id (new on each
// registration, so a removal for a stale one never takes its replacement). {userId, deviceId} is
// unique and lists a user's registrations; {targetKey} is unique: one push target, one owner.
import { type PushRegistration, type PushTarget, pushTargetKey } from '../../domain/push.ts';
import { type IndexSpec, type Session, type StoreCollection, within } from './database.ts';

export const PUSH_REGISTRATIONS = 'pushRegistrations';

export interface PushRegistrationDoc {
  _id: string;
  userId: string;
  deviceId: string;
  targetKey: string;
  target: PushTarget;
  createdAt: Date;
}

export type PushRegistrations = StoreCollection<PushRegistrationDoc>;

export const pushRegistrationIndexes: readonly IndexSpec[] = [
  { key: { userId: 1, deviceId: 1 }, name: 'userId_1_deviceId_1', unique: true },
  { key: { targetKey: 1 }, name: 'targetKey_1', unique: true },
];

export function toPushRegistration(doc: PushRegistrationDoc): PushRegistration {
  return { ...doc.target, id: doc._id, userId: doc.userId, deviceId: doc.deviceId, createdAt: doc.createdAt };
}

function targetOf(registration: PushRegistration): PushTarget {
  return registration.kind === 'WEB_PUSH'
    ? { kind: 'WEB_PUSH', endpoint: registration.endpoint, p256dh: registration.p256dh, auth: registration.auth }
    : { kind: 'PUSHER', url: registration.url, appId: registration.appId, pushkey: registration.pushkey };
}

/** How many registrations the user has besides this device's and this target's ({userId, deviceId}). */
export async function countOthers(registrations: PushRegistrations, registration: PushRegistration, session: Session) {
  const filter = {
    userId: registration.userId,
    deviceId: { $ne: registration.deviceId },
    targetKey: { $ne: pushTargetKey(registration) },
  };
  return registrations.countDocuments(filter, within(session));
}

/** Removes the device's registration and any other of the same target, then stores this one. */
export async function replace(registrations: PushRegistrations, registration: PushRegistration, session: Session): Promise<void> {
  const targetKey = pushTargetKey(registration);
  await registrations.deleteOne({ userId: registration.userId, deviceId: registration.deviceId }, within(session));
  await registrations.deleteOne({ targetKey }, within(session));
  await registrations.insertOne(
    {
      _id: registration.id,
      userId: registration.userId,
      deviceId: registration.deviceId,
      targetKey,
      target: targetOf(registration),
      createdAt: registration.createdAt,
    },
    within(session),
  );
}

/** Removes the device's registration; true when there was one. */
export async function deleteOfDevice(registrations: PushRegistrations, userId: string, deviceId: string) {
  return (await registrations.deleteOne({ userId, deviceId })).deletedCount === 1;
}

/** Removes the registration with this id; true when it was still there. */
export async function deleteById(registrations: PushRegistrations, id: string) {
  return (await registrations.deleteOne({ _id: id })).deletedCount === 1;
}

/** The registrations of these users ({userId, deviceId}). */
export async function findOfUsers(registrations: PushRegistrations, userIds: readonly string[]): Promise<PushRegistration[]> {
  if (userIds.length === 0) return [];
  const docs = await registrations.find({ userId: { $in: [...userIds] } }, { sort: { userId: 1, deviceId: 1 } }).toArray();
  return docs.map(toPushRegistration);
}
