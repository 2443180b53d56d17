// The shared part of a subscription event: the document executed once for every subscriber, with a
// hole wherever a per-viewer field is, serialized into the text between the holes. A subscriber's
// payload is that text with its own values in the holes, picked from its state of the hole's
// parent; the states of all subscribers are read together, one batch per parent. The execution
// runs through graphql-js with a context that records holes (src/delivery/per-viewer.ts), so every
// other field keeps its full GraphQL semantics.
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLLeafType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  GraphQLEnumType,
  GraphQLScalarType,
  TypeInfo,
  execute,
  getNamedType,
  isListType,
  isNonNullType,
  responsePathAsArray,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { type HoleRecorder, type ViewerState, recordHolesIn } from './per-viewer.ts';

/**
 * How a document's events are produced for a group of subscribers:
 * - shared: nothing depends on the viewer; one payload for all;
 * - template: only per-viewer scalars depend on the viewer; one execution, a fill per subscriber;
 * - each: some field needs the subscriber's own execution (access checks below it, say).
 */
export type Mode = 'shared' | 'template' | 'each';

/** Scalars a hole can stand for: a stand-in of the type keeps the shared execution well-formed. */
const STAND_INS: Record<string, unknown> = { Int: 0, Float: 0, Boolean: false, String: '', ID: '' };

function fillable(type: GraphQLOutputType): boolean {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return false;
  const named = getNamedType(inner);
  return named instanceof GraphQLEnumType || (named instanceof GraphQLScalarType && named.name in STAND_INS);
}

/** The mode of a document, from the viewer-specific fields it selects anywhere. */
export function modeOf(schema: GraphQLSchema, document: DocumentNode): Mode {
  const typeInfo = new TypeInfo(schema);
  let mode: Mode = 'shared';
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const field = typeInfo.getFieldDef();
        if (!field?.extensions?.viewerSpecific || mode === 'each') return;
        mode = field.extensions.perViewer && fillable(field.type) ? 'template' : 'each';
      },
    }),
  );
  return mode;
}

/** A place in the shared result where each subscriber's value of a per-viewer field goes. */
interface Hole {
  path: readonly (string | number)[];
  parent: unknown;
  state: ViewerState<unknown, unknown, unknown>;
  pick: (state: unknown, parent: unknown) => unknown;
  type: GraphQLLeafType;
  nonNull: boolean;
}

/** Marks where a hole sits in the result while it is written out. */
class HoleMark {
  constructor(readonly hole: Hole) {}
}

/** An event's shared payload: text between the holes (one more piece than holes) and the holes in text order. */
export interface Template {
  pieces: string[];
  holes: Hole[];
  /** The pieces as UTF-8, and their length in all: every subscriber's frame copies them. */
  pieceBytes: Buffer[];
  piecesLength: number;
}

/**
 * One subscriber's payload of a template: the shared pieces with its own values between them,
 * copied straight into its frame (no text of the whole payload is built per subscriber).
 */
export class FilledPayload {
  readonly byteLength: number;

  constructor(
    private readonly template: Template,
    /** Each hole's value as JSON text. */
    private readonly values: string[],
  ) {
    let length = template.piecesLength;
    for (const value of values) length += Buffer.byteLength(value);
    this.byteLength = length;
  }

  /** Writes the payload into `target` from `offset`. */
  copyTo(target: Buffer, offset: number): void {
    const { pieceBytes } = this.template;
    const { values } = this;
    let at = offset + pieceBytes[0]!.copy(target, offset);
    for (let i = 0; i < values.length; i++) {
      at += target.write(values[i]!, at);
      at += pieceBytes[i + 1]!.copy(target, at);
    }
  }
}

class Recorder implements HoleRecorder {
  readonly holes: Hole[] = [];

  hole(parent: unknown, info: GraphQLResolveInfo, state: Hole['state'], pick: Hole['pick']): unknown {
    const nonNull = isNonNullType(info.returnType);
    const type = getNamedType(info.returnType) as GraphQLLeafType;
    this.holes.push({ path: responsePathAsArray(info.path), parent, state, pick, type, nonNull });
    return type instanceof GraphQLEnumType ? type.getValues()[0]?.value : STAND_INS[type.name];
  }
}

/** Writes a result as JSON, cutting the text at each hole. */
class PieceWriter {
  readonly pieces: string[] = [];
  readonly holes: Hole[] = [];
  private text = '';

  write(value: unknown): void {
    if (value instanceof HoleMark) {
      this.pieces.push(this.text);
      this.holes.push(value.hole);
      this.text = '';
    } else if (Array.isArray(value)) {
      this.text += '[';
      for (let i = 0; i < value.length; i++) {
        if (i > 0) this.text += ',';
        this.write(value[i] ?? null);
      }
      this.text += ']';
    } else if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
      this.text += '{';
      let first = true;
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined) continue;
        this.text += `${first ? '' : ','}${JSON.stringify(key)}:`;
        first = false;
        this.write(item);
      }
      this.text += '}';
    } else {
      this.text += JSON.stringify(value) ?? 'null';
    }
  }

  /** The pieces, the last one followed by `closing`. */
  finish(closing: string): Template {
    this.pieces.push(this.text + closing);
    const pieceBytes = this.pieces.map((piece) => Buffer.from(piece));
    const piecesLength = pieceBytes.reduce((sum, piece) => sum + piece.length, 0);
    return { pieces: this.pieces, holes: this.holes, pieceBytes, piecesLength };
  }
}

/** Puts a mark at each hole's place in the result; a hole whose place is gone (an error nulled its parent) is dropped. */
function markHoles(result: ExecutionResult, holes: Hole[]): void {
  for (const hole of holes) {
    let at: unknown = result.data;
    const { path } = hole;
    for (let i = 0; i < path.length - 1 && at != null; i++) at = (at as Record<string | number, unknown>)[path[i]!];
    if (at != null && typeof at === 'object') (at as Record<string | number, unknown>)[path.at(-1)!] = new HoleMark(hole);
  }
}

/**
 * Executes the document for one event with a context whose per-viewer fields leave holes, and
 * serializes the result around them. `finish` masks errors; `closing` ends the payload's text.
 */
export function executeTemplate(
  args: ExecutionArgs,
  event: unknown,
  contextValue: object,
  finish: (result: ExecutionResult) => ExecutionResult,
  closing: string,
): Template | Promise<Template> {
  const recorder = new Recorder();
  const result = execute({ ...args, rootValue: event, contextValue: recordHolesIn(contextValue, recorder) });
  const write = (done: ExecutionResult): Template => {
    const finished = finish(done);
    markHoles(finished, recorder.holes);
    const writer = new PieceWriter();
    writer.write(finished);
    return writer.finish(closing);
  };
  return result instanceof Promise ? result.then(write) : write(result);
}

/** A subscriber's value for a hole, as JSON text; null when the field failed for this viewer. */
function valueText(hole: Hole, state: unknown): string | null {
  try {
    const value = hole.pick(state, hole.parent);
    if (value === null || value === undefined) return hole.nonNull ? null : 'null';
    return JSON.stringify(hole.type.serialize(value));
  } catch {
    return null;
  }
}

/**
 * Each subscriber's payload of `template`: the states behind its holes read for all `contexts` at
 * once (one read per state and parent), then each subscriber's values put in the holes. A null
 * payload means the field failed for that viewer (an error, or null where the schema says
 * non-null): that subscriber's event is then executed on its own, so it gets GraphQL's own answer.
 * Rejects when a read fails.
 */
export async function fillTemplate(template: Template, contexts: readonly unknown[]): Promise<(FilledPayload | null)[]> {
  const { holes } = template;
  // One read per state and parent, however many holes pick from it.
  const reads = new Map<ViewerState<unknown, unknown, unknown>, Map<unknown, Promise<unknown[]>>>();
  for (const { state, parent } of holes) {
    let byParent = reads.get(state);
    if (!byParent) reads.set(state, (byParent = new Map()));
    if (!byParent.has(parent)) byParent.set(parent, state.readMany(parent, contexts));
  }
  const states: unknown[][] = [];
  for (const { state, parent } of holes) states.push(await reads.get(state)!.get(parent)!);
  const payloads: (FilledPayload | null)[] = new Array(contexts.length);
  for (let i = 0; i < contexts.length; i++) {
    const values: string[] = new Array(holes.length);
    let failed = false;
    for (let h = 0; h < holes.length && !failed; h++) {
      const value = valueText(holes[h]!, states[h]![i]);
      if (value === null) failed = true;
      else values[h] = value;
    }
    payloads[i] = failed ? null : new FilledPayload(template, values);
  }
  return payloads;
}
