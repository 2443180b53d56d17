// One invariant's result: how many things were checked, how many broke it, and a few examples.
export interface InvariantResult {
  name: string;
  checked: number;
  violations: number;
  examples: string[];
}

const EXAMPLES = 8;

export class Tally {
  private checked = 0;
  private violations = 0;
  private readonly examples: string[] = [];

  constructor(readonly name: string) {}

  /** Counts one check; a failed one is a violation, described (lazily) by example(). */
  check(ok: boolean, example: () => string): boolean {
    this.checked++;
    if (!ok) this.violation(example());
    return ok;
  }

  /** Violations found without a matching check (several faults in one checked item), one example for them. */
  violation(example: string, count = 1): void {
    if (count <= 0) return;
    this.violations += count;
    if (this.examples.length < EXAMPLES && !this.examples.includes(example)) this.examples.push(example);
  }

  count(checked: number): void {
    this.checked += checked;
  }

  result(): InvariantResult {
    return { name: this.name, checked: this.checked, violations: this.violations, examples: this.examples };
  }
}

/** Consecutive numbers as ranges: [3,4,5,9] → "3..5, 9". */
export function ranges(seqs: number[]): string {
  const sorted = [...seqs].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}..${sorted[j]}`);
    i = j + 1;
    if (parts.length >= 6 && i < sorted.length) {
      parts.push('…');
      break;
    }
  }
  return parts.join(', ');
}
