// Subscription events executed once per distinct (document, variables), not once per subscriber.
// A channel feed hands the same message object to every local subscriber of the channel; when a
// subscription's document selects nothing that depends on who is asking (fields marked
// `viewerSpecific`), the result of executing it for that message is the same for every such
// subscriber, so it is computed once and shared. Documents that do select viewer-specific fields
// (unread counts, a DIRECT channel's name, ...) are executed per subscriber, as before.
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  Kind,
  TypeInfo,
  createSourceEventStream,
  execute,
  visit,
  visitWithTypeInfo,
} from 'graphql';

type MaskError = (error: unknown, message: string) => Error;

/** True when no field the document selects depends on the viewer. */
function selectsOnlyShared(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let shared = true;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        if (typeInfo.getFieldDef()?.extensions?.viewerSpecific) shared = false;
      },
    }),
  );
  return shared;
}

function isSubscription(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  return operation?.operation === 'subscription';
}

/** Maps each event of a stream, passing return() on so the source is released (no async closures: one per subscriber). */
class MappedStream<T, R> implements AsyncIterableIterator<R> {
  constructor(
    private readonly source: AsyncIterator<T>,
    private readonly fn: (item: T) => Promise<R> | R,
  ) {}

  next(): Promise<IteratorResult<R>> {
    return this.source.next().then((result) =>
      result.done ? { value: undefined, done: true } : Promise.resolve(this.fn(result.value)).then((value) => ({ value, done: false })),
    );
  }

  return(): Promise<IteratorResult<R>> {
    return Promise.resolve(this.source.return?.()).then(() => ({ value: undefined, done: true }));
  }

  throw(error: unknown): Promise<IteratorResult<R>> {
    return Promise.resolve(this.source.return?.()).then(() => Promise.reject(error));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * A graphql-ws `subscribe` that shares per-event results among subscribers with the same
 * viewer-independent document and variables (key: the document's text and variables).
 */
export function createSharedSubscribe(maskError: MaskError, onExecute: () => void = () => {}) {
  const sharedDocuments = new WeakMap<DocumentNode, boolean>();
  const resultsByEvent = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  return async function subscribe(args: ExecutionArgs, key: string) {
    let shared = sharedDocuments.get(args.document);
    if (shared === undefined) {
      shared = isSubscription(args.document, args.operationName) && selectsOnlyShared(args.schema, args.document);
      sharedDocuments.set(args.document, shared);
    }
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) {
      return { ...source, errors: source.errors?.map((error) => maskError(error, 'Unexpected error.')) } as ExecutionResult;
    }
    // graphql-js' execute runs a subscription document's fields for one event (as its subscribe
    // does); errors are masked here as Yoga masks everything else.
    const run = async (event: unknown): Promise<ExecutionResult> => {
      onExecute();
      const result = await execute({ ...args, rootValue: event });
      return result.errors ? { ...result, errors: result.errors.map((e) => maskError(e, 'Unexpected error.') as GraphQLError) } : result;
    };
    return new MappedStream(source[Symbol.asyncIterator](), (event: unknown) => {
      if (!shared || event === null || typeof event !== 'object') return run(event);
      let results = resultsByEvent.get(event);
      if (!results) {
        results = new Map();
        resultsByEvent.set(event, results);
      }
      let result = results.get(key);
      if (!result) {
        result = run(event);
        results.set(key, result);
      }
      return result;
    });
  };
}
