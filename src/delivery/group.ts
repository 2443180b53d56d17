// Subscribers of one document with the same variables form a group: an event handed to several of
// them in one go (a channel feed hands each message to all its local subscribers in one loop) is a
// batch, produced once for the batch (src/delivery/template.ts) and written to each subscriber's
// socket. Batches are written in the order they began, so each subscriber gets its events in order
// without a promise of its own.
import type { DocumentNode, ExecutionArgs, ExecutionResult } from 'graphql';
import { type LoaderScope, currentLoaderScope, sharingLoaders } from '../../loaders/index.ts';
import { type FilledPayload, type Mode, type Template, executeTemplate, fillTemplate } from './template.ts';

/**
 * A payload as JSON followed by the `}` that closes its frame: bytes when shared by many, a
 * template filled with one subscriber's values, or text (a subscriber's own execution).
 */
export type Payload = Buffer | FilledPayload | string;

/** What a group needs from each subscription in it. */
export interface Member {
  readonly args: ExecutionArgs;
  write(payload: Payload): void;
}

/** How a group produces payloads: the process's execution, masking and context for shared runs. */
export interface Producer {
  /** Executes the document for one subscriber and one event (the subscriber's own context). */
  run(args: ExecutionArgs, event: unknown): Payload | Promise<Payload>;
  /** Masks the errors of a result as every payload does. */
  finish(result: ExecutionResult): ExecutionResult;
  /** A context for the shared execution of an event, built from one subscriber's context. */
  sharedContext(subscriberContext: unknown): object;
  /** Counts one execution of a document for an event. */
  executed(): void;
  /** Reports a frame that could not be written (its subscriber misses it; the others do not). */
  lost(error: unknown): void;
}

/** The `}` that closes a frame after its payload. */
const CLOSING = '}';

class Batch {
  readonly members: Member[] = [];
  /** The payload of every member, once known (shared mode with a synchronous result). */
  shared: Payload | null = null;
  private template: Template | Promise<Template> | null = null;
  private payloads: (Payload | Promise<Payload>)[] = [];

  constructor(
    readonly event: unknown,
    private readonly mode: Mode,
    private readonly producer: Producer,
    first: Member,
    /** The loaders of the message being delivered, shared by everyone resolving it. */
    private readonly scope: LoaderScope | null,
  ) {
    if (mode === 'each') return;
    // Started at once, while the feed still hands out the message: the shared execution joins
    // the delivery's loaders.
    producer.executed();
    try {
      const context = producer.sharedContext(first.args.contextValue);
      const template = executeTemplate(first.args, event, context, producer.finish, CLOSING);
      if (mode === 'shared' && !(template instanceof Promise)) this.shared = Buffer.from(template.pieces[0]!);
      this.template = template;
    } catch (error) {
      this.template = Promise.reject(error);
    }
  }

  /** Produces every member's payload, once no member can join any more; never rejects. */
  async produce(): Promise<void> {
    const { members, producer, event } = this;
    let template: Template | null = null;
    if (this.mode !== 'each') {
      try {
        template = await this.template!;
      } catch {
        // The shared execution failed past graphql-js: each member hears it from its own run.
      }
    }
    if (template && template.holes.length === 0) {
      this.shared ??= Buffer.from(template.pieces[0]!);
      return;
    }
    if (!template) {
      sharingLoaders(() => {
        for (const member of members) this.payloads.push(producer.run(member.args, event));
      }, this.scope ?? undefined);
    } else {
      let filled: (FilledPayload | null)[];
      try {
        filled = await fillTemplate(
          template,
          members.map((member) => member.args.contextValue),
        );
      } catch {
        // A state could not be read: each member hears why from its own run.
        filled = members.map(() => null);
      }
      sharingLoaders(() => {
        for (let i = 0; i < members.length; i++) this.payloads.push(filled[i] ?? producer.run(members[i]!.args, event));
      }, this.scope ?? undefined);
    }
    if (this.payloads.some((payload) => payload instanceof Promise)) this.payloads = await Promise.all(this.payloads);
  }

  write(): void {
    const { members, shared } = this;
    const payloads = this.payloads as Payload[];
    for (let i = 0; i < members.length; i++) {
      try {
        members[i]!.write(shared ?? payloads[i]!);
      } catch (error) {
        this.producer.lost(error);
      }
    }
  }
}

export class Group {
  subscribers = 0;
  /** The batch still taking members: the event being handed out right now. */
  private open: Batch | null = null;
  /** Resolves once every batch begun so far is written; null when nothing is pending. */
  private pending: Promise<void> | null = null;

  constructor(
    readonly document: DocumentNode,
    readonly key: string,
    private readonly mode: Mode,
    private readonly producer: Producer,
  ) {}

  /**
   * Hands an event to one member. A payload known at once, with nothing before it, is written at
   * once (the feed's loop writes the frames); otherwise the member joins the event's batch.
   */
  push(event: unknown, member: Member): void {
    let batch = this.open;
    // Only an object is one event: equal primitives may be different events.
    if (batch === null || batch.event !== event || typeof event !== 'object' || event === null) batch = this.begin(event, member);
    if (batch.shared !== null && this.pending === null) member.write(batch.shared);
    else batch.members.push(member);
  }

  private begin(event: unknown, first: Member): Batch {
    const batch = new Batch(event, this.mode, this.producer, first, currentLoaderScope());
    this.open = batch;
    const immediate = batch.shared !== null && this.pending === null;
    const before = this.pending;
    // After the current loop (a microtask), when every member of the event has joined.
    const written: Promise<void> = Promise.resolve().then(() => {
      if (this.open === batch) this.open = null;
      if (immediate) return;
      return batch
        .produce()
        .then(() => before)
        .then(() => batch.write());
    });
    if (!immediate) {
      this.pending = written;
      void written.finally(() => {
        if (this.pending === written) this.pending = null;
      });
    }
    return batch;
  }

  /** Resolves once the frames of every event handed out so far are written. */
  written(): Promise<void> {
    return this.pending ?? Promise.resolve();
  }
}
