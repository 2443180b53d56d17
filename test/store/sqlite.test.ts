import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { storeContract } from './contract.ts';

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
