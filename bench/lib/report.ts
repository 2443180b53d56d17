// Result lines ("<what>: ratio R (ours …, bare ws …, socket.io …)") and the JSON files.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SystemName } from '../systems/types.ts';

export type Unit = 'ms' | 'KiB/conn' | '/s' | 'µs';

/** One compared metric. ratio = how many times worse ours is than the ceiling (bare ws). */
export interface Comparison {
  kind: 'comparison';
  title: string;
  unit: Unit;
  better: 'lower' | 'higher';
  values: Partial<Record<SystemName, number>>;
  /** Why a system has no value ("not run: …", "failed: …"). */
  missing: Partial<Record<SystemName, string>>;
  ratio: number | null;
  /** Figures the line adds after the values (e.g. badge mismatches). */
  details?: Record<string, number>;
  line: string;
}

/** A metric of ours alone or against another reference (app-open, history, receipts, sends), already phrased. */
export interface Observation {
  kind: 'observation';
  title: string;
  values: Record<string, number>;
  line: string;
}

export type Result = Comparison | Observation;

const LABELS: Record<SystemName, string> = { ours: 'ours', bare: 'bare ws', socketio: 'socket.io' };
const ORDER: SystemName[] = ['ours', 'bare', 'socketio'];

export function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === '/s') return `${Math.round(value)}/s`;
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ${unit}`;
}

export function compare(
  title: string,
  unit: Unit,
  better: 'lower' | 'higher',
  values: Partial<Record<SystemName, number>>,
  missing: Partial<Record<SystemName, string>>,
  /** Appended after the values: what else the line must say (e.g. "badges: 0 mismatches"). */
  note?: string,
): Comparison {
  const ours = values.ours;
  const ceiling = values.bare;
  let ratio: number | null = null;
  if (ours !== undefined && ceiling !== undefined && Number.isFinite(ours) && Number.isFinite(ceiling) && ours > 0 && ceiling > 0) {
    ratio = better === 'lower' ? ours / ceiling : ceiling / ours;
  }
  const parts = ORDER.map((system) => {
    const value = values[system];
    return value !== undefined ? `${LABELS[system]} ${formatValue(value, unit)}` : `${LABELS[system]} ${missing[system] ?? 'not run'}`;
  });
  const line = `${title}: ratio ${ratio === null ? 'n/a' : ratio.toFixed(2)} (${parts.join(', ')})${note ? `; ${note}` : ''}`;
  return { kind: 'comparison', title, unit, better, values, missing, ratio, line };
}

/** Writes JSON atomically (a .tmp file renamed into place), so a reader never sees half a file. */
export function writeJson(file: string, data: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  // Three decimals are plenty (µs for ms values) and keep the files readable.
  const round = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value);
  writeFileSync(tmp, `${JSON.stringify(data, round, 2)}\n`);
  renameSync(tmp, file);
}

export function writeText(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
