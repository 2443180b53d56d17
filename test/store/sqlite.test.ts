import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { storeContract } from './contract.ts';
import { draft, organization, tick, user } from './fixtures.ts';
import { pushStoreContract } from './push-contract.ts';
import { expectExactReceipts, liveChannels } from './receipts.ts';

const require = createRequire(import.meta.url);

// A real SQLite file in a temporary folder, as the server uses one.
async function onFile() {
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
  const store = new SqliteStore(join(dir, 'chat.db'));
  return {
    store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

storeContract('sqlite', onFile);
pushStoreContract('sqlite', onFile);

describe('sqlite: processes sharing one file', () => {
  it('opens a fresh file while another process is writing to it, waiting its turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    const file = join(dir, 'chat.db');
    // Another process (a second server starting at the same moment) holds the write lock on the fresh file.
    const writer = spawn(process.execPath, ['-e', `
      const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      const db = new Database(${JSON.stringify(file)});
      db.exec('BEGIN IMMEDIATE');
      console.log('holding');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 400);
    `]);
    try {
      await new Promise<void>((resolve, reject) => {
        writer.stdout.once('data', () => resolve());
        writer.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
      });
      const store = new SqliteStore(file);
      await store.upsertUsers([{ id: 'u1', name: 'ann', displayName: null, email: null }]);
      expect((await store.findUsersByIds(['u1'])).map((user) => user.name)).toEqual(['ann']);
      await store.close();
    } finally {
      writer.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite: read receipts', () => {
  /** Marker counts that no member is in, or below zero: none should be left behind. */
  function emptyOrNegativeCounts(file: string): number {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM marker_counts WHERE (read = 0 AND delivered = 0) OR read < 0 OR delivered < 0').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  it('fills the marker counts once when it opens a file written before they existed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    const file = join(dir, 'chat.db');
    try {
      let channelIds: readonly string[] = [];
      const writer = new SqliteStore(file);
      await liveChannels(writer, 300, async (ids) => void (channelIds = ids));
      await writer.close();
      // The file as a store without the counts left it: its tables and rows, with markers that store moved.
      const old = new Database(file);
      old.exec('DROP TABLE marker_counts');
      old.exec('UPDATE channel_members SET lastReadSeq = lastReadSeq / 2');
      old.close();

      const store = new SqliteStore(file);
      await expectExactReceipts(store, channelIds);
      await store.close();
      const reopened = new SqliteStore(file);
      await expectExactReceipts(reopened, channelIds);
      const [member] = await reopened.listChannelMembers(channelIds[1]!, null, 1);
      const [channel] = await reopened.findChannelsByIds([channelIds[1]!]);
      await reopened.advanceReadMarker(channel!.id, member!.userId, channel!.lastSeq);
      await expectExactReceipts(reopened, channelIds);
      await reopened.close();
      expect(emptyOrNegativeCounts(file)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no marker count at zero behind as members move on and leave', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    const file = join(dir, 'chat.db');
    try {
      const store = new SqliteStore(file);
      await liveChannels(store, 300, async () => undefined);
      await store.close();
      expect(emptyOrNegativeCounts(file)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite: a file written before @name mentions', () => {
  it('gets users.nameKey on opening, so members stored before are found by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
    const file = join(dir, 'chat.db');
    try {
      const before = new SqliteStore(file);
      const bob = await user(before, 'Bob');
      const { general } = await organization(before, bob.id);
      await before.close();
      const raw = new Database(file);
      raw.exec('DROP INDEX users_by_name_key; ALTER TABLE users DROP COLUMN nameKey');
      raw.close();

      const after = new SqliteStore(file);
      expect(await after.findChannelMembersByNames(general.id, ['bob'])).toEqual([bob]);
      await after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite: unread mentions of a whole channel', () => {
  it('counts them exactly when the channel has more recent mentions than one range read takes', async () => {
    const { store, dispose } = await onFile();
    try {
      const members = [];
      for (let i = 0; i < 20; i++) members.push(await user(store, `crowd${i}`));
      const ids = members.map((member) => member.id);
      const { general } = await organization(store, ids[0]!);
      for (const id of ids.slice(1)) await store.addChannelMember(general.id, id, tick());
      // 5,010 messages mentioning one member each, most of them the first: a busy channel's history.
      const many = 5_010;
      for (let seq = 1; seq <= many; seq++) {
        const mentioned = seq % 10 === 0 ? ids[seq % 20]! : ids[0]!;
        await store.appendMessage(draft(general.id, ids[1]!, `message ${seq}`, { mentions: [mentioned] }));
      }
      // Markers far back and recent: the fan-out's read reaches back to the oldest. Without the
      // first member, the others' mentions are few: they are read by member. With it, too many
      // for one read: they are counted key by key.
      const keysOf = (users: string[]) => users.map((userId, i) => ({ channelId: general.id, userId, afterSeq: i % 2 === 0 ? 0 : many - 100 }));
      for (const keys of [keysOf(ids.slice(1)), keysOf(ids)]) {
        const together = await store.countMentions(keys);
        const oneByOne = [];
        for (const key of keys) oneByOne.push(...(await store.countMentions([key])));
        expect(together).toEqual(oneByOne);
        expect(together.some((count) => count > 0)).toBe(true);
      }
      expect((await store.countMentions([{ channelId: general.id, userId: ids[0]!, afterSeq: 0 }]))[0]).toBeGreaterThan(4_000);
    } finally {
      await dispose();
    }
  });
});
