// Presence: a user is ONLINE while at least one device is connected. Going OFFLINE waits a grace
// period (a flapping network reconnects within it and nobody is told anything), then is published
// to presence:{userId} and lastActiveAt is stored.
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { EventBus } from './bus.ts';
import { DeviceLog } from './device-log.ts';
import { topics } from './events.ts';

export interface PresenceTracker {
  readonly kind: 'in-process' | 'redis' | 'redis-cluster';
  /** A device of the user connected (a graphql-ws connection was acknowledged). */
  deviceConnected(userId: string, deviceId: string): Promise<void>;
  /** That device's connection closed or died. */
  deviceDisconnected(userId: string, deviceId: string): Promise<void>;
  /** Which of these users are online now. */
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Calls fn when changes may have gone unheard (the bus was away) and what onlineAmong answers is
   * current again, until the returned function is called.
   */
  onResync(fn: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Presence of a single process: devices are the connections this process holds. A user is ONLINE
 * while a device is connected or its grace is running. (RedisPresence in redis-presence.ts is the
 * same behaviour shared by several processes.)
 */
export class InProcessPresence implements PresenceTracker {
  readonly kind = 'in-process' as const;
  private readonly devices = new Map<string, Map<string, number>>();
  private readonly goingOffline = new Map<string, NodeJS.Timeout>();
  private readonly deviceLog: DeviceLog;

  constructor(
    private readonly bus: EventBus,
    private readonly store: Store,
    private readonly graceMs: number,
    private readonly logger: Logger,
  ) {
    this.deviceLog = new DeviceLog(store, logger);
  }

  async deviceConnected(userId: string, deviceId: string): Promise<void> {
    let devices = this.devices.get(userId);
    const wasOnline = devices !== undefined || this.goingOffline.has(userId);
    if (!devices) {
      devices = new Map();
      this.devices.set(userId, devices);
    }
    // The same device may reconnect before its old socket is found dead: count connections.
    devices.set(deviceId, (devices.get(deviceId) ?? 0) + 1);
    const pending = this.goingOffline.get(userId);
    if (pending) {
      clearTimeout(pending);
      this.goingOffline.delete(userId);
    }
    this.deviceLog.seen(userId, deviceId);
    if (!wasOnline) await this.bus.publish(topics.presence(userId), { userId, status: 'ONLINE', lastActiveAt: new Date() });
  }

  async deviceDisconnected(userId: string, deviceId: string): Promise<void> {
    const devices = this.devices.get(userId);
    const connections = devices?.get(deviceId);
    if (!devices || connections === undefined) return;
    if (connections > 1) {
      devices.set(deviceId, connections - 1);
      return;
    }
    devices.delete(deviceId);
    this.deviceLog.seen(userId, deviceId);
    if (devices.size === 0) {
      this.devices.delete(userId);
      const timer = setTimeout(() => {
        this.goingOffline.delete(userId);
        void this.wentOffline(userId);
      }, this.graceMs);
      timer.unref();
      this.goingOffline.set(userId, timer);
    }
  }

  private async wentOffline(userId: string): Promise<void> {
    const at = new Date();
    try {
      await this.store.setUserLastActiveAt(userId, at);
    } catch (error) {
      this.logger.warn({ err: error, userId }, 'could not store lastActiveAt');
    }
    await this.bus.publish(topics.presence(userId), { userId, status: 'OFFLINE', lastActiveAt: at });
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.devices.has(id) || this.goingOffline.has(id)));
  }

  /** Nothing goes unheard in one process. */
  onResync(): () => void {
    return () => {};
  }

  async close(): Promise<void> {
    for (const timer of this.goingOffline.values()) clearTimeout(timer);
    this.goingOffline.clear();
    this.devices.clear();
  }
}
