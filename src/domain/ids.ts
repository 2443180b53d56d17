// Internal ids and the opaque global ids clients see.
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';

/**
 * A new id that sorts by creation time (48-bit milliseconds, then 80 random bits, base32),
 * so ids created later compare greater, which keyset cursors rely on for ties.
 */
export function newId(prefix: string, now = Date.now()): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(10);
  let rest = '';
  for (const byte of random) rest += alphabet[byte % 32];
  return `${prefix}_${time}${rest}`;
}

export type NodeTypename = 'User' | 'Organization' | 'Channel' | 'Message' | 'Invitation';
const TYPENAMES: readonly string[] = ['User', 'Organization', 'Channel', 'Message', 'Invitation'];

/** The global id of a record: base64url("Typename:id"), opaque to clients. */
export function toGlobalId(typename: NodeTypename, id: string): string {
  return Buffer.from(`${typename}:${id}`, 'utf8').toString('base64url');
}

/** Longest record id: a user's is the token's subject (at most 200 characters); every other is shorter. */
const ID_MAX = 200;

/** Decodes a global id of any node type; a malformed one is the client's mistake. */
export function fromGlobalId(globalId: string, field = 'id'): { typename: NodeTypename; id: string } {
  // Room for ID_MAX characters of three UTF-8 bytes each, and the type, in base64.
  const wellFormed = globalId.length <= 1024 && /^[A-Za-z0-9_-]+$/.test(globalId);
  const decoded = wellFormed ? Buffer.from(globalId, 'base64url').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const typename = decoded.slice(0, colon);
  const id = decoded.slice(colon + 1);
  if (colon < 1 || !TYPENAMES.includes(typename) || id === '' || id.length > ID_MAX) {
    throw AppError.badInput(field, `${field} is not a valid id`);
  }
  return { typename: typename as NodeTypename, id };
}

/** Decodes a global id that must name a record of one type. */
export function idOf(typename: NodeTypename, globalId: string, field: string): string {
  const decoded = fromGlobalId(globalId, field);
  if (decoded.typename !== typename) {
    throw AppError.badInput(field, `${field} must be the id of a ${typename}, got one of a ${decoded.typename}`);
  }
  return decoded.id;
}

/** The key of the one DIRECT channel between two users, the same from both sides. */
export function directKeyOf(a: string, b: string): string {
  return JSON.stringify(a < b ? [a, b] : [b, a]);
}

/** The two members named by a directKey. */
export function membersOfDirectKey(directKey: string): [string, string] {
  const pair = JSON.parse(directKey) as [string, string];
  return pair;
}
