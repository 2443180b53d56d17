// The schema as committed in schema.graphql: the subgraph SDL with its federation directives.
import { printSubgraphSchema } from '@apollo/subgraph';
import { schema } from './schema.ts';

export function printSchemaText(): string {
  return `${printSubgraphSchema(schema).trim()}\n`;
}
