// The operation limits as Yoga/Envelop plugins, so HTTP and WebSocket operations (both go through
// yoga.getEnveloped) meet the same ones: parsing stops at the token limit (GraphQL Armor's
// max-tokens), the document limits run before graphql-js validates (a refused document never
// reaches rules that cost more), and requests refused on the way carry a code and a status.
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Limits } from '../config.ts';
import { codeRequestErrors, requestError } from '../errors.ts';
import { createDocumentLimits, type OperationParams } from './document.ts';

/** The parse error a client sees: the parser's message, or why the parser gave up. */
function parseFailure(error: Error): GraphQLError {
  // Only a document nested deeper than the token limit allows could overflow the parser's stack.
  const message = error instanceof GraphQLError ? error.message : 'Syntax Error: the document is nested too deeply';
  const refused = requestError('GRAPHQL_PARSE_FAILED', message);
  return error instanceof GraphQLError
    ? new GraphQLError(message, { source: error.source, positions: error.positions, extensions: refused.extensions })
    : refused;
}

/** The parse, validate and execution hooks that enforce the limits, for Yoga's plugins. */
export function useOperationLimits(limits: Limits): Plugin<{ params?: OperationParams }>[] {
  const documentLimitErrors = createDocumentLimits(limits);
  return [
    maxTokensPlugin({ n: limits.queryTokensMax }),
    {
      onParse() {
        return ({ result, replaceParseResult }) => {
          if (result instanceof Error) replaceParseResult(parseFailure(result));
        };
      },
      onValidate({ params: { schema, documentAST }, context }) {
        // Thrown rather than set as the result: Yoga caches validation results by document, and
        // the cost depends on the variables.
        const errors = documentLimitErrors(schema, documentAST, context.params);
        if (errors.length === 1) throw errors[0];
        if (errors.length > 1) throw new AggregateError(errors, 'The document exceeds several limits');
      },
      onExecute() {
        return {
          onExecuteDone({ result, setResult }) {
            if (!(Symbol.asyncIterator in result)) setResult(codeRequestErrors(result));
          },
        };
      },
      onSubscribe() {
        return {
          onSubscribeResult({ result, setResult }) {
            if (!(Symbol.asyncIterator in result)) setResult(codeRequestErrors(result));
          },
        };
      },
    },
  ];
}
