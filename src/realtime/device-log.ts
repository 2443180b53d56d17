// When each device was last seen (devices.lastSeenAt), written behind presence: the devices that
// connect or leave in one turn of the event loop are one store call, and nobody waits for it.
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { TurnBatch } from '../batching.ts';
import type { Device } from '../domain/types.ts';

export class DeviceLog {
  private readonly batch: TurnBatch<Device>;

  constructor(store: Store, logger: Logger) {
    this.batch = new TurnBatch(async (devices) => {
      try {
        await store.upsertDevices(devices);
      } catch (error) {
        logger.warn({ err: error, devices: devices.length }, 'could not record when devices were last seen');
      }
    });
  }

  /** Notes that the device is seen now (it connected, or its connection ended). */
  seen(userId: string, deviceId: string): void {
    void this.batch.add({ userId, deviceId, lastSeenAt: new Date() });
  }
}
