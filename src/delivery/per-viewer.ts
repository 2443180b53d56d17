// Fields whose value depends on who asks, in two kinds:
// - viewer-specific fields (VIEWER_SPECIFIC): a subscription selecting one is executed for each
//   subscriber with the subscriber's own context (access checks, a channel's messages, ...);
// - per-viewer scalars (perViewer): picked from a viewer's state of a parent record that every
//   viewer may see (a channel's read state: unread and mention counts; a DIRECT channel's name).
//   A subscription event is executed once for all subscribers with a hole wherever such a field
//   is; the states of all subscribers are read in one batch and each subscriber's frame is the
//   shared text with its own values in the holes (src/delivery/template.ts).
import type { GraphQLResolveInfo } from 'graphql';

/** Marks a field whose value depends on who asks and that must be resolved for each subscriber. */
export const VIEWER_SPECIFIC = { viewerSpecific: true } as const;

/** Marks a scalar field picked from a per-viewer state (see perViewer). */
export const PER_VIEWER = { viewerSpecific: true, perViewer: true } as const;

/** A viewer's state of a parent record, read for one viewer or for many at once. */
export interface ViewerState<Parent, State, Context> {
  /** The state for the context's viewer (an ordinary request, batched through its loaders). */
  read(parent: Parent, ctx: Context): Promise<State>;
  /** The states for the viewers of these contexts, in their order, in one batched read. */
  readMany(parent: Parent, contexts: readonly Context[]): Promise<State[]>;
}

/** Where the shared execution of an event records the holes it leaves. */
export interface HoleRecorder {
  /** Records a per-viewer field at info.path and returns a stand-in value of its type. */
  hole(parent: unknown, info: GraphQLResolveInfo, state: ViewerState<unknown, unknown, unknown>, pick: (state: unknown, parent: unknown) => unknown): unknown;
}

const recorders = new WeakMap<object, HoleRecorder>();

/** Makes `context` execute the shared part of events: per-viewer fields leave holes in `recorder`. */
export function recordHolesIn<Context extends object>(context: Context, recorder: HoleRecorder): Context {
  recorders.set(context, recorder);
  return context;
}

/**
 * The resolver of a per-viewer scalar (to use with `extensions: PER_VIEWER`): `pick` of the viewer's
 * `state` of the parent. In an ordinary request the state is read for the request's viewer; in the
 * shared execution of a subscription event the field leaves a hole that each subscriber fills.
 */
export function perViewer<Parent, State, Context extends object, Result>(
  state: ViewerState<Parent, State, Context>,
  pick: (state: State, parent: Parent) => Result,
): (parent: Parent, args: unknown, ctx: Context, info: GraphQLResolveInfo) => Promise<Result> | Result {
  return (parent, _args, ctx, info) => {
    const recorder = recorders.get(ctx);
    if (recorder) return recorder.hole(parent, info, state as ViewerState<unknown, unknown, unknown>, pick as (s: unknown, p: unknown) => unknown) as Result;
    return state.read(parent, ctx).then((read) => pick(read, parent));
  };
}
