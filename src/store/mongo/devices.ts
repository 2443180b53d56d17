// devices: one document per (user, device), unique on {userId, deviceId}, which serves the upsert;
// sharded on the hashed userId (the upsert names it).
import type { Device } from '../../domain/types.ts';
import type { CollectionSpec, StoreCollection } from './database.ts';

export const DEVICES = 'devices';

/** Stored as the domain record (the driver adds its own _id). */
export type DeviceDoc = Device;

export type Devices = StoreCollection<DeviceDoc>;

export const devicesCollection: CollectionSpec = {
  name: DEVICES,
  indexes: [{ key: { userId: 1, deviceId: 1 }, name: 'userId_1_deviceId_1', unique: true }],
  shardKey: { userId: 'hashed' },
};

/** Registers each device, or moves when it was last seen forward ($max: a late report never wins). */
export async function upsertDevices(devices: Devices, records: readonly Device[]): Promise<void> {
  await Promise.all(
    records.map((device) =>
      devices.updateOne({ userId: device.userId, deviceId: device.deviceId }, { $max: { lastSeenAt: device.lastSeenAt } }, { upsert: true }),
    ),
  );
}
