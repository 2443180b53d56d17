// The committed schema.graphql is what the server serves, and it keeps the public API contract.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { printSchemaText } from '../../src/schema-text.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('schema.graphql', () => {
  it('is the served schema (run `npm run schema` after changing resolvers/)', () => {
    const committed = readFileSync(`${root}schema.graphql`, 'utf8');
    expect(committed, 'schema.graphql is stale: run `npm run schema` and commit it').toBe(printSchemaText());
  });

  it('contains the whole API contract (../shared/tools/contract-check.mjs)', () => {
    const check = spawnSync(process.execPath, ['../shared/tools/contract-check.mjs', 'schema.graphql'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toMatch(/contract: all \d+ types hold/);
  });
});
