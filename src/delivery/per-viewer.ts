// Fields whose value depends on who asks, in two kinds:
// - viewer-specific fields (VIEWER_SPECIFIC): a subscription selecting one is executed for each
//   subscriber with the subscriber's own context (access checks, a DIRECT channel's messages, ...);
// - per-viewer leaves (perViewer): a scalar that each viewer computes from the same parent (unread
//   and mention counts, a DIRECT channel's name). A subscription event is executed once for all
//   subscribers with a hole where each such field is, and each subscriber's values fill the holes
//   (src/delivery/template.ts): one execution per event, not one per subscriber.
import type { GraphQLResolveInfo } from 'graphql';

/** Marks a field whose value depends on who asks and that must be resolved for each subscriber. */
export const VIEWER_SPECIFIC = { viewerSpecific: true } as const;

/** Marks a scalar field resolved per viewer from a parent shared by all viewers (see perViewer). */
export const PER_VIEWER = { viewerSpecific: true, perViewer: true } as const;

export type FieldResolver<Parent, Args, Context, Result> = (parent: Parent, args: Args, ctx: Context, info: GraphQLResolveInfo) => Result;

/** Where an execution of the shared part of an event records the holes it leaves. */
export interface HoleRecorder {
  /** Records a per-viewer field at info.path and returns a stand-in value of its type. */
  hole(parent: unknown, args: unknown, info: GraphQLResolveInfo, resolve: FieldResolver<unknown, unknown, unknown, unknown>): unknown;
}

const recorders = new WeakMap<object, HoleRecorder>();

/** Makes `context` execute the shared part of events: per-viewer fields leave holes in `recorder`. */
export function recordHolesIn<Context extends object>(context: Context, recorder: HoleRecorder): Context {
  recorders.set(context, recorder);
  return context;
}

/**
 * The resolver of a per-viewer scalar field (to use with `extensions: PER_VIEWER`): in an ordinary
 * request it is `resolve`; in the shared execution of a subscription event it leaves a hole that
 * each subscriber fills by calling `resolve` with its own context. `resolve` must not depend on
 * anything but its parent, its arguments and the viewer's context.
 */
export function perViewer<Parent, Args, Context extends object, Result>(
  resolve: FieldResolver<Parent, Args, Context, Result>,
): FieldResolver<Parent, Args, Context, Result> {
  return (parent, args, ctx, info) => {
    const recorder = recorders.get(ctx);
    if (!recorder) return resolve(parent, args, ctx, info);
    return recorder.hole(parent, args, info, resolve as FieldResolver<unknown, unknown, unknown, unknown>) as Result;
  };
}
