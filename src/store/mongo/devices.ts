// devices: one document per (user, device), unique on {userId, deviceId}.
import type { Device } from '../../domain/types.ts';
import type { IndexSpec, StoreCollection } from './database.ts';

export const DEVICES = 'devices';

export interface DeviceDoc {
  userId: string;
  deviceId: string;
  lastSeenAt: Date;
}

export type Devices = StoreCollection<DeviceDoc>;

export const deviceIndexes: readonly IndexSpec[] = [{ key: { userId: 1, deviceId: 1 }, name: 'userId_1_deviceId_1', unique: true }];

/** Registers the device, or moves when it was last seen forward ($max: a late report never wins). */
export async function upsertDevice(devices: Devices, device: Device): Promise<void> {
  await devices.updateOne(
    { userId: device.userId, deviceId: device.deviceId },
    { $max: { lastSeenAt: device.lastSeenAt } },
    { upsert: true },
  );
}
