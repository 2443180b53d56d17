// Bounds on what one document may ask for, checked before graphql-js' own validation and in time
// linear in the document's size (every rule counts each fragment once, memoized): depth, aliases
// and directives through GraphQL Armor's rules, and the cost of the operation to run
// (./cost.ts). A client that needs more is doing something no chat screen needs; refusing it
// keeps one request from starving the others.
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { type ASTNode, type DocumentNode, type GraphQLError, type GraphQLSchema, Kind, type ValidationContext, validate } from 'graphql';
import type { Limits } from '../config.ts';
import { requestError } from '../errors.ts';
import { operationCost } from './cost.ts';

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

/** Armor's refusal, reported as a validation error in this server's words (Armor says "Syntax Error"). */
function report(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(requestError('GRAPHQL_VALIDATION_FAILED', error.message.replace(/^Syntax Error: /, '')));
}

export interface OperationParams {
  operationName?: string | null;
  variables?: Readonly<Record<string, unknown>> | null;
}

/** Checks a document against the limits; the errors say which limit and by how much. */
export function createDocumentLimits(limits: Limits) {
  // Armor's rules report rather than throw, so that every limit passed is named at once.
  const armor = { propagateOnRejection: false, onReject: [report] };
  // Depth counts fields, not fragments; the schema's own fields count too, so a document that
  // only reads the schema gets a depth of its own instead of none.
  const depth = { flattenFragments: true, ignoreIntrospection: false, ...armor };
  const documentRules = [
    maxAliasesRule({ n: limits.aliasesMax, ...armor }),
    maxDirectivesRule({ n: limits.directivesMax, ...armor }),
  ];
  const operationDepth = maxDepthRule({ n: limits.queryDepthMax, ...depth });
  const schemaDepth = maxDepthRule({ n: limits.introspectionDepthMax, ...depth });

  // Depth, aliases and directives depend on the document alone, and Yoga's parse cache hands the
  // same document to every request with the same text: each is checked once.
  const checked = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  const shapeErrors = (schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] => {
    let errors = checked.get(document);
    if (!errors) {
      const rules = [asksOnlyForSchema(document) ? schemaDepth : operationDepth, ...documentRules];
      errors = validate(schema, document, rules, { maxErrors: 10 });
      checked.set(document, errors);
    }
    return errors;
  };

  return function documentLimitErrors(schema: GraphQLSchema, document: DocumentNode, params: OperationParams | undefined): GraphQLError[] {
    const errors = [...shapeErrors(schema, document)];
    const cost = operationCost(schema, document, params?.operationName, params?.variables, limits);
    if (cost > limits.queryCostMax) {
      errors.push(
        requestError(
          'GRAPHQL_VALIDATION_FAILED',
          `The operation may resolve ${cost} fields (each list field once per item its page may hold); at most ${limits.queryCostMax} are allowed`,
        ),
      );
    }
    return errors;
  };
}
