import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { storeContract } from './contract.ts';

const require = createRequire(import.meta.url);

// A real SQLite file in a temporary folder, as the server uses one.
storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-'));
  const store = new SqliteStore(join(dir, 'chat.db'));
  return {
    store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

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
