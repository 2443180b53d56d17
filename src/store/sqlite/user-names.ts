// Users by name for @name mentions: users.nameKey (nameKey() of the name, computed here because
// SQLite's lower() folds ASCII only) and its index, added to files written before they existed.
import type Database from 'better-sqlite3';
import { nameKey } from '../../domain/rules.ts';

/** Adds users.nameKey where missing, fills it for rows stored without one, and indexes it (inside the opening transaction). */
export function ensureNameKeys(db: Database.Database): void {
  const columns = db.pragma('table_info(users)') as { name: string }[];
  if (!columns.some((column) => column.name === 'nameKey')) db.exec('ALTER TABLE users ADD COLUMN nameKey TEXT');
  db.exec('CREATE INDEX IF NOT EXISTS users_by_name_key ON users (nameKey)');
  const unkeyed = db.prepare('SELECT id, name FROM users WHERE nameKey IS NULL').all() as { id: string; name: string }[];
  const fill = db.prepare('UPDATE users SET nameKey = ? WHERE id = ?');
  for (const { id, name } of unkeyed) fill.run(nameKey(name), id);
}

/** Members of channel ?2 whose nameKey is in the JSON array ?1: the name index, then one membership probe per user. */
export const MEMBERS_BY_NAME_KEYS = `SELECT u.* FROM json_each(?) k
  JOIN users u ON u.nameKey = k.value
  JOIN channel_members m ON m.channelId = ? AND m.userId = u.id`;
