// npm run schema: writes the served schema to schema.graphql (committed; a test fails when stale).
import { writeFileSync } from 'node:fs';
import { printSchemaText } from '../src/schema-text.ts';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSchemaText());
console.log('wrote schema.graphql');
