import { compileRules, loadRules } from '@regwatch/rules';
import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../io.js';
import { classify } from './classify.js';

function io(stdin: string) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readStdin: async () => stdin,
    stdinLines: async function* () {
      yield* stdin.split('\n');
    },
    env: {},
  };
  return { io: value, out, err };
}

const engine = compileRules(loadRules());

describe('regwatch classify', () => {
  it('prints the classification with the identifiers it names', async () => {
    const t = io(
      JSON.stringify({
        title: 'BIS tightens licence rules for 3A090.a chips to China',
        summary: 'The rule amends 15 CFR 744.23 (FR Doc. 2025-00711), effective January 15, 2025.',
      }),
    );
    expect(await classify([], t.io, engine)).toBe(0);
    const out = JSON.parse(t.out.join(''));
    expect(out.flagged).toBe(true);
    expect(out.identifiers.map((i: { kind: string; value: string }) => [i.kind, i.value])).toEqual([
      ['eccn', '3A090.a'],
      ['cfr', '15 CFR 744.23'],
      ['fr_doc', '2025-00711'],
      ['effective_date', '2025-01-15'],
    ]);
    expect(out.identifiers[0]).toMatchObject({ field: 'title', text: '3A090.a', start: 31, end: 38 });
  });

  it('prints identifiers per line with --jsonl, and an empty list where there are none', async () => {
    const t = io(
      `${JSON.stringify({ title: 'HS code 8542.31 duties rise' })}\n${JSON.stringify({ title: 'Weather' })}\n`,
    );
    expect(await classify(['--jsonl'], t.io, engine)).toBe(0);
    const lines = t.out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.identifiers.map((i: { value: string }) => i.value))).toEqual([['8542.31'], []]);
  });
});
