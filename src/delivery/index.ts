// Subscription events over the WebSocket, written straight to the socket. A channel feed hands each
// message to every local subscriber in one synchronous loop; subscribers of the same document and
// variables form a group that produces the message once for all of them:
// - a document that selects nothing depending on who asks is executed once and serialized once;
// - a document whose only viewer-dependent fields are per-viewer scalars (unread and mention
//   counts, a DIRECT channel's name) is executed once with holes in it, and each subscriber's
//   values, resolved together for all of them, fill the holes;
// - any other document is executed for each subscriber with the subscriber's own context.
// Each frame is the operation's id around the payload, exactly what graphql-ws would send:
// {"id":"…","type":"next","payload":{…}}.
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, createSourceEventStream, execute } from 'graphql';
import { type AppDeps, type RequestContext, createContext } from '../context.ts';
import type { Viewer } from '../domain/types.ts';
import { isLiveStream } from '../realtime/async-queue.ts';
import { Group, type Payload, type Producer } from './group.ts';
import { SocketSubscription, type SubscriptionTarget } from './subscription.ts';
import { type Mode, modeOf } from './template.ts';

export type { SubscriptionTarget } from './subscription.ts';

type MaskError = (error: unknown, message: string) => Error;

export interface DeliveryOptions {
  deps: AppDeps;
  maskError: MaskError;
  /** Bytes a socket may have waiting before it is closed as too slow. */
  backlogMaxBytes: number;
}

/** The viewer of a shared execution: nobody, so a field that wrongly asked who it is would see nothing. */
const NOBODY: Viewer = { id: '', name: '', deviceId: null };

/**
 * A graphql-ws `subscribe` that writes each event's frame straight to the subscriber's socket,
 * producing each event once per group of subscribers with the same document and variables.
 */
export function createSubscriptionDelivery(options: DeliveryOptions) {
  const { deps, maskError } = options;
  const { metrics, logger } = deps;
  const modes = new WeakMap<DocumentNode, Mode>();
  /** Live groups by document, then by operation name and variables. */
  const groups = new Map<DocumentNode, Map<string, Group>>();

  const finish = (result: ExecutionResult): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((error) => maskError(error, 'Unexpected error.') as GraphQLError) } : result;
  // GraphQLError's toJSON gives the wire form of each error, as graphql-ws would send it.
  const serialize = (result: ExecutionResult): Payload => `${JSON.stringify(finish(result))}}`;
  // Anything thrown past graphql-js is unexpected: the subscriber gets a masked error, the log the cause.
  const failed = (error: unknown): Payload => serialize({ errors: [error as GraphQLError] });

  const producer: Producer = {
    run(args: ExecutionArgs, event: unknown): Payload | Promise<Payload> {
      metrics.eventExecutions.inc();
      try {
        // graphql-js' execute runs a subscription document's fields for one event, as its subscribe does.
        const result = execute({ ...args, rootValue: event });
        return result instanceof Promise ? result.then(serialize).catch(failed) : serialize(result);
      } catch (error) {
        return failed(error);
      }
    },
    finish,
    sharedContext(subscriberContext: unknown): object {
      const context = createContext((subscriberContext as RequestContext).deps, NOBODY);
      // Joins the loaders of the message being delivered, when there is one.
      context.refreshLoaders();
      return context;
    },
    executed: () => metrics.eventExecutions.inc(),
    lost: (error: unknown) => logger.warn({ err: error }, 'a subscription frame could not be written'),
  };

  function join(args: ExecutionArgs): Group {
    let mode = modes.get(args.document);
    if (mode === undefined) modes.set(args.document, (mode = modeOf(args.schema, args.document)));
    const key = JSON.stringify([args.operationName ?? null, args.variableValues ?? null]);
    let byKey = groups.get(args.document);
    if (!byKey) groups.set(args.document, (byKey = new Map()));
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = new Group(args.document, key, mode, producer)));
    group.subscribers++;
    return group;
  }

  const subscriptionOptions = {
    backlogMaxBytes: options.backlogMaxBytes,
    delivered: () => metrics.deliveries.inc(),
    leave(group: Group): void {
      if (--group.subscribers > 0) return;
      const byKey = groups.get(group.document);
      if (byKey?.get(group.key) !== group) return;
      byKey.delete(group.key);
      if (byKey.size === 0) groups.delete(group.document);
    },
  };

  return async function subscribe(args: ExecutionArgs, target: SubscriptionTarget): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return finish(source);
    if (!isLiveStream(source)) {
      await source[Symbol.asyncIterator]().return?.();
      throw new Error('a subscription resolver must return a LiveStream (resolvers/subscriptions.ts)');
    }
    return new SocketSubscription(source, args, target, join(args), subscriptionOptions);
  };
}
