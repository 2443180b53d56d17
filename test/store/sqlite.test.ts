import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { storeContract } from './contract.ts';
import { organization, user } from './fixtures.ts';
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
