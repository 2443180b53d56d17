// Users and their devices: profiles written from the identity provider's claims at sign-in, and the
// devices that have connected (presence and push notifications are about devices).
import { nameKey } from '../../domain/rules.ts';
import type { Device, User } from '../../domain/types.ts';
import type { UserProfile } from '../store.ts';
import { type UserRow, toUser } from './rows.ts';
import type { Sql } from './sql.ts';

/** Inside a unit: writes each profile, keeping what only the server knows (lastActiveAt). */
export function upsertUsers(sql: Sql, profiles: readonly UserProfile[]): void {
  for (const profile of profiles) {
    sql.run(
      `INSERT INTO users (id, name, nameKey, displayName, email, lastActiveAt) VALUES (?, ?, ?, ?, ?, NULL)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, nameKey = excluded.nameKey, displayName = excluded.displayName, email = excluded.email`,
      profile.id, profile.name, nameKey(profile.name), profile.displayName, profile.email,
    );
  }
}

export function findUsersByIds(sql: Sql, ids: readonly string[]): User[] {
  return sql.all<UserRow>('SELECT u.* FROM json_each(?) k JOIN users u ON u.id = k.value', JSON.stringify(ids)).map(toUser);
}

/** Moves lastActiveAt forward only: a late write from another process never moves it back. */
export function setUserLastActiveAt(sql: Sql, userId: string, at: Date): void {
  sql.run('UPDATE users SET lastActiveAt = max(coalesce(lastActiveAt, 0), ?) WHERE id = ?', at.getTime(), userId);
}

/** Inside a unit: records each device, keeping the latest lastSeenAt. */
export function upsertDevices(sql: Sql, devices: readonly Device[]): void {
  for (const device of devices) {
    sql.run(
      `INSERT INTO devices (userId, deviceId, lastSeenAt) VALUES (?, ?, ?)
       ON CONFLICT (userId, deviceId) DO UPDATE SET lastSeenAt = max(lastSeenAt, excluded.lastSeenAt)`,
      device.userId, device.deviceId, device.lastSeenAt.getTime(),
    );
  }
}
