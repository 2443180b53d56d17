// The committed schema.graphql is what the server serves, and it keeps the public API contract.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { printSchemaText } from '../../src/schema-text.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The contract's checker lives beside the repository, in the shared folder of the API contract. */
const contractCheck = fileURLToPath(new URL('../../../shared/tools/contract-check.mjs', import.meta.url));
const haveContract = existsSync(contractCheck);
if (!haveContract) {
  console.warn(`schema: the API contract check is SKIPPED: ${contractCheck} is absent (this clone is not next to the shared folder)`);
}

describe('schema.graphql', () => {
  it('is the served schema (run `npm run schema` after changing resolvers/)', () => {
    const committed = readFileSync(`${root}schema.graphql`, 'utf8');
    expect(committed, 'schema.graphql is stale: run `npm run schema` and commit it').toBe(printSchemaText());
  });

  it.skipIf(!haveContract)('contains the whole API contract (../shared/tools/contract-check.mjs)', () => {
    const check = spawnSync(process.execPath, [contractCheck, 'schema.graphql'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toMatch(/contract: all \d+ types hold/);
  });
});
