// The push part of the SQLite store: registrations, the outbox, the deriver's cursors and the log
// scan's mark, with their tables beside their queries. Units run as IMMEDIATE transactions, so
// processes sharing the file claim and move things one at a time.
import type Database from 'better-sqlite3';
import {
  type PushCursor,
  type PushOutboxEntry,
  type PushRegistration,
  type PushSettlement,
  type PushTarget,
  type QueuedPush,
  pushTargetKey,
} from '../../domain/push.ts';
import type { PushStore } from '../push-store.ts';
import type { ActivityPosition } from '../store.ts';
import { type ChannelRow, toChannel } from './rows.ts';

export const PUSH_SCHEMA = `
CREATE TABLE IF NOT EXISTS push_registrations (
  id TEXT PRIMARY KEY,
  userId TEXT NOT NULL,
  deviceId TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('WEB_PUSH', 'PUSHER')),
  targetKey TEXT NOT NULL,
  target TEXT NOT NULL,
  createdAt INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS push_registrations_device ON push_registrations (userId, deviceId);
CREATE UNIQUE INDEX IF NOT EXISTS push_registrations_target ON push_registrations (targetKey);

CREATE TABLE IF NOT EXISTS push_outbox (
  userId TEXT NOT NULL,
  channelId TEXT NOT NULL,
  seq INTEGER NOT NULL,
  lastDueAt INTEGER NOT NULL,
  availableAt INTEGER NOT NULL,
  owner TEXT,
  attempts INTEGER NOT NULL,
  delivered TEXT NOT NULL,
  PRIMARY KEY (userId, channelId)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS push_outbox_due ON push_outbox (availableAt);

CREATE TABLE IF NOT EXISTS push_cursors (
  channelId TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  memberAfter TEXT
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS push_scan (
  name TEXT PRIMARY KEY,
  mark INTEGER NOT NULL,
  owner TEXT,
  leaseUntil INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS channels_by_activity ON channels (lastActiveAt, id);
`;

interface RegistrationRow { id: string; userId: string; deviceId: string; kind: string; target: string; createdAt: number }
interface OutboxRow { userId: string; channelId: string; seq: number; lastDueAt: number; attempts: number; delivered: string }

const toRegistration = (r: RegistrationRow): PushRegistration => ({
  ...(JSON.parse(r.target) as PushTarget),
  id: r.id,
  userId: r.userId,
  deviceId: r.deviceId,
  createdAt: new Date(r.createdAt),
});

const toOutboxEntry = (r: OutboxRow): PushOutboxEntry => ({
  userId: r.userId,
  channelId: r.channelId,
  seq: r.seq,
  lastDueAt: new Date(r.lastDueAt),
  attempts: r.attempts,
  delivered: JSON.parse(r.delivered) as Record<string, number>,
});

/** The fields of the target alone, as stored in the target column. */
function targetOf(registration: PushRegistration): PushTarget {
  return registration.kind === 'WEB_PUSH'
    ? { kind: 'WEB_PUSH', endpoint: registration.endpoint, p256dh: registration.p256dh, auth: registration.auth }
    : { kind: 'PUSHER', url: registration.url, appId: registration.appId, pushkey: registration.pushkey };
}

const SCAN = 'channels';

export class SqlitePushStore implements PushStore {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    /** Runs fn as one IMMEDIATE transaction, errors in the store's vocabulary. */
    private readonly unit: <T>(fn: () => T) => T,
  ) {}

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  async savePushRegistration(registration: PushRegistration, maxPerUser: number) {
    const targetKey = pushTargetKey(registration);
    return this.unit(() => {
      const { others } = this.sql(
        'SELECT count(*) AS others FROM push_registrations WHERE userId = ? AND deviceId <> ? AND targetKey <> ?',
      ).get(registration.userId, registration.deviceId, targetKey) as { others: number };
      if (others >= maxPerUser) return false;
      this.sql('DELETE FROM push_registrations WHERE (userId = ? AND deviceId = ?) OR targetKey = ?').run(
        registration.userId, registration.deviceId, targetKey,
      );
      this.sql(
        `INSERT INTO push_registrations (id, userId, deviceId, kind, targetKey, target, createdAt)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        registration.id, registration.userId, registration.deviceId, registration.kind, targetKey,
        JSON.stringify(targetOf(registration)), registration.createdAt.getTime(),
      );
      return true;
    });
  }

  async deletePushRegistration(userId: string, deviceId: string) {
    return this.sql('DELETE FROM push_registrations WHERE userId = ? AND deviceId = ?').run(userId, deviceId).changes > 0;
  }

  async deletePushRegistrationById(id: string) {
    return this.sql('DELETE FROM push_registrations WHERE id = ?').run(id).changes > 0;
  }

  async listPushRegistrations(userIds: readonly string[]) {
    const rows = this.sql(
      `SELECT r.* FROM json_each(?) k JOIN push_registrations r ON r.userId = k.value ORDER BY r.userId, r.deviceId`,
    ).all(JSON.stringify(userIds)) as RegistrationRow[];
    return rows.map(toRegistration);
  }

  async findPushCursors(channelIds: readonly string[]) {
    return this.sql('SELECT c.* FROM json_each(?) k JOIN push_cursors c ON c.channelId = k.value').all(
      JSON.stringify(channelIds),
    ) as (PushCursor & { channelId: string })[];
  }

  async queuePushNotifications(channelId: string, from: PushCursor | null, to: PushCursor, entries: readonly QueuedPush[]) {
    return this.unit(() => {
      const at = this.sql('SELECT seq, memberAfter FROM push_cursors WHERE channelId = ?').get(channelId) as PushCursor | undefined;
      const unchanged = from === null ? at === undefined : at !== undefined && at.seq === from.seq && at.memberAfter === from.memberAfter;
      if (!unchanged) return false;
      for (const entry of entries) {
        // A waiting entry keeps its due time (the first message's): later ones collapse into it.
        this.sql(
          `INSERT INTO push_outbox (userId, channelId, seq, lastDueAt, availableAt, owner, attempts, delivered)
           VALUES (?, ?, ?, ?, ?, NULL, 0, '{}')
           ON CONFLICT (userId, channelId) DO UPDATE SET seq = max(seq, excluded.seq), lastDueAt = max(lastDueAt, excluded.lastDueAt)`,
        ).run(entry.userId, entry.channelId, entry.seq, entry.dueAt.getTime(), entry.dueAt.getTime());
      }
      this.sql(
        `INSERT INTO push_cursors (channelId, seq, memberAfter) VALUES (?, ?, ?)
         ON CONFLICT (channelId) DO UPDATE SET seq = excluded.seq, memberAfter = excluded.memberAfter`,
      ).run(channelId, to.seq, to.memberAfter);
      return true;
    });
  }

  async claimPushNotifications(owner: string, now: Date, leaseUntil: Date, limit: number) {
    // Most polls find nothing due: a plain read then, and no write lock for processes sharing the file.
    if (!this.sql('SELECT 1 FROM push_outbox WHERE availableAt <= ? LIMIT 1').get(now.getTime())) return [];
    const rows = this.unit(
      () =>
        this.sql(
          `UPDATE push_outbox SET owner = ?, availableAt = ?
           WHERE (userId, channelId) IN (SELECT userId, channelId FROM push_outbox WHERE availableAt <= ? ORDER BY availableAt LIMIT ?)
           RETURNING *`,
        ).all(owner, leaseUntil.getTime(), now.getTime(), limit) as OutboxRow[],
    );
    return rows.map(toOutboxEntry);
  }

  async settlePushNotification(key: { userId: string; channelId: string }, owner: string, settlement: PushSettlement) {
    this.unit(() => {
      const row = this.sql('SELECT * FROM push_outbox WHERE userId = ? AND channelId = ? AND owner = ?').get(
        key.userId, key.channelId, owner,
      ) as OutboxRow | undefined;
      if (!row) return;
      const newer = row.seq > settlement.seq;
      if (!newer && settlement.retryAt === null) {
        this.sql('DELETE FROM push_outbox WHERE userId = ? AND channelId = ?').run(key.userId, key.channelId);
        return;
      }
      const availableAt = Math.max(settlement.retryAt?.getTime() ?? 0, newer ? row.lastDueAt : 0);
      this.sql(
        'UPDATE push_outbox SET owner = NULL, availableAt = ?, attempts = ?, delivered = ? WHERE userId = ? AND channelId = ?',
      ).run(availableAt, settlement.retryAt ? settlement.attempts : 0, JSON.stringify(settlement.delivered), key.userId, key.channelId);
    });
  }

  async findChannelsActiveSince(since: Date, after: ActivityPosition | null, limit: number) {
    const time = after ? after.lastActiveAt.getTime() : since.getTime();
    const rows = this.sql(
      `SELECT * FROM channels WHERE lastActiveAt >= ? AND (lastActiveAt > ? OR (lastActiveAt = ? AND id > ?))
       ORDER BY lastActiveAt, id LIMIT ?`,
    ).all(since.getTime(), time, time, after ? after.id : '', limit) as ChannelRow[];
    return rows.map(toChannel);
  }

  async readPushScanMark() {
    const row = this.sql('SELECT mark FROM push_scan WHERE name = ?').get(SCAN) as { mark: number } | undefined;
    return row ? new Date(row.mark) : null;
  }

  async claimPushScan(owner: string, now: Date, leaseUntil: Date) {
    return this.unit(() => {
      this.sql('INSERT INTO push_scan (name, mark, owner, leaseUntil) VALUES (?, ?, NULL, 0) ON CONFLICT DO NOTHING').run(
        SCAN, now.getTime(),
      );
      const row = this.sql(
        'UPDATE push_scan SET owner = ?, leaseUntil = ? WHERE name = ? AND leaseUntil <= ? RETURNING mark',
      ).get(owner, leaseUntil.getTime(), SCAN, now.getTime()) as { mark: number } | undefined;
      return row ? new Date(row.mark) : null;
    });
  }

  async finishPushScan(owner: string, mark: Date) {
    this.sql('UPDATE push_scan SET mark = max(mark, ?), owner = NULL, leaseUntil = 0 WHERE name = ? AND owner = ?').run(
      mark.getTime(), SCAN, owner,
    );
  }
}
