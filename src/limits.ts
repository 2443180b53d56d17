// Bounds on what one document may ask for: selection depth and aliases. A client that needs more
// is doing something no chat screen needs; refusing it keeps one request from starving others.
import { GraphQLError, Kind, type ASTNode, type ValidationRule } from 'graphql';

function depthOf(node: ASTNode, fragments: Map<string, ASTNode>, seen = new Set<string>()): number {
  if (node.kind === Kind.FRAGMENT_SPREAD) {
    if (seen.has(node.name.value)) return 0;
    const fragment = fragments.get(node.name.value);
    return fragment ? depthOf(fragment, fragments, new Set([...seen, node.name.value])) : 0;
  }
  const selections = 'selectionSet' in node && node.selectionSet ? node.selectionSet.selections : [];
  const below = Math.max(0, ...selections.map((s) => depthOf(s, fragments, seen)));
  return node.kind === Kind.FIELD ? 1 + below : below;
}

/** A validation rule refusing documents deeper than maxDepth or with more than maxAliases aliases. */
export function documentLimits(maxDepth: number, maxAliases: number): ValidationRule {
  return (context) => {
    const document = context.getDocument();
    const fragments = new Map<string, ASTNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases += 1;
        if (aliases === maxAliases + 1) {
          context.reportError(new GraphQLError(`The document uses more than ${maxAliases} aliases`, { nodes: node, extensions: { code: 'BAD_USER_INPUT' } }));
        }
      },
      OperationDefinition(node) {
        const depth = depthOf(node, fragments);
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`The document is ${depth} fields deep; at most ${maxDepth} are allowed`, {
              nodes: node,
              extensions: { code: 'BAD_USER_INPUT' },
            }),
          );
        }
      },
    };
  };
}

const PUBLIC_ROOT_FIELDS = new Set(['__schema', '__type', '__typename', '_service']);

/** True when a document only asks what the schema is (introspection, the subgraph SDL): no sign-in needed. */
export function asksOnlyForSchema(document: { definitions: readonly ASTNode[] }): boolean {
  return document.definitions.every(
    (definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ||
      (definition.kind === Kind.OPERATION_DEFINITION &&
        definition.operation === 'query' &&
        definition.selectionSet.selections.every((s) => s.kind === Kind.FIELD && PUBLIC_ROOT_FIELDS.has(s.name.value))),
  );
}
