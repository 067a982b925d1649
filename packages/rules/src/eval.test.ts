import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRules } from './engine.js';
import { RulesError } from './errors.js';
import { defaultDevSetPath, type EvalReport, evaluate, formatReport, readLabelledJsonl } from './eval.js';
import { loadRules } from './taxonomy.js';

const engine = compileRules(loadRules());

/** The targets the classifier is held to on any labelled set of the fixtures' kind. */
function expectTargets(report: EvalReport): void {
  expect.soft(report.flag.precision, 'flag precision').toBeGreaterThanOrEqual(0.9);
  expect.soft(report.flag.recall, 'flag recall').toBeGreaterThanOrEqual(0.95);
  expect.soft(report.topics.micro.f1, 'topic micro F1').toBeGreaterThanOrEqual(0.85);
  expect.soft(report.jurisdictions.micro.f1, 'jurisdiction micro F1').toBeGreaterThanOrEqual(0.85);
}

describe('readLabelledJsonl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'regwatch-labelled-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads good lines and skips blank ones', () => {
    const path = join(dir, 'good.jsonl');
    writeFileSync(
      path,
      `${JSON.stringify({ id: 'a', title: 'Customs seize smuggled chips', summary: '', label: 'flag', topics: ['smuggling'], jurisdictions: ['CN'] })}\n\n`,
    );
    expect(readLabelledJsonl(path)).toMatchObject([{ id: 'a', label: 'flag', topics: ['smuggling'] }]);
  });

  it('reports every bad line with its number and field', () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(
      path,
      [
        JSON.stringify({ id: 'a', title: 't', label: 'flag', topics: ['piracy'] }),
        '{not json',
        JSON.stringify({ id: 'c', title: 't', label: 'maybe' }),
      ].join('\n'),
    );
    try {
      readLabelledJsonl(path);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RulesError);
      const problems = (err as RulesError).problems;
      expect(problems[0]).toMatch(/bad\.jsonl:1: topics\[0\]: /);
      expect(problems[1]).toMatch(/bad\.jsonl:2: not JSON/);
      expect(problems[2]).toMatch(/bad\.jsonl:3: label: /);
    }
  });
});

describe('evaluate', () => {
  it('counts flags, labels and misses', () => {
    const report = evaluate(
      [
        {
          id: '1',
          title: 'US adds Chinese chipmakers to the Entity List',
          summary: '',
          label: 'flag',
          topics: ['export_controls'],
          jurisdictions: ['US', 'CN'],
          entities: [],
        },
        {
          id: '2',
          title: 'Wedding customs in Japan',
          summary: 'Traditions differ.',
          label: 'ignore',
          topics: [],
          jurisdictions: [],
          entities: [],
        },
        {
          id: '3',
          title: 'A quiet day',
          summary: '',
          label: 'flag',
          topics: ['sanctions'],
          jurisdictions: ['RU'],
          entities: [],
        },
      ],
      engine,
    );
    expect(report.flag).toMatchObject({ tp: 1, fp: 0, fn: 1, tn: 1, precision: 1, recall: 0.5 });
    expect(report.topics.perLabel['export_controls']).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    expect(report.topics.perLabel['sanctions']).toMatchObject({ tp: 0, fn: 1 });
    expect(report.misses).toEqual([expect.objectContaining({ id: '3', kind: 'false_negative' })]);
    const text = formatReport(report);
    expect(text).toContain('flagged: P 1.000  R 0.500');
    expect(text).toContain('FN 3');
  });
});

describe('targets on labelled sets', () => {
  it('meets them on the package probe set (own items, several languages, hard negatives)', () => {
    const probe = fileURLToPath(new URL('../test-fixtures/probe.jsonl', import.meta.url));
    expectTargets(evaluate(readLabelledJsonl(probe), engine));
  });

  // Written from the news before the taxonomy, the dev set or the probe set were read; 16 languages.
  // Its items carry a `story` key (outlets of one event share it) that the loader drops; the set is
  // split in two halves by story: the rules were tuned on the first, the second was held out.
  it('meets them on the blind set and on each half of it', () => {
    const path = fileURLToPath(new URL('../test-fixtures/blind.jsonl', import.meta.url));
    const items = readLabelledJsonl(path);
    expect(items.length).toBeGreaterThan(250);
    expectTargets(evaluate(items, engine));
    const storyOf = new Map<string, string>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const raw = JSON.parse(line) as { id: string; story: string };
      storyOf.set(raw.id, raw.story);
    }
    const halfOf = (id: string): number =>
      Number.parseInt(
        createHash('sha1')
          .update(`b${storyOf.get(id)}`)
          .digest('hex')
          .slice(-1),
        16,
      ) % 2;
    for (const half of [0, 1]) {
      const part = items.filter((i) => halfOf(i.id) === half);
      expect(part.length, `half ${half}`).toBeGreaterThan(100);
      expectTargets(evaluate(part, engine));
    }
  });

  // The shared dev set lives outside the repository; the test skips where it is not laid out.
  const dev = defaultDevSetPath();
  it.skipIf(!existsSync(dev))('meets them on the shared dev set', () => {
    const report = evaluate(readLabelledJsonl(dev), engine);
    expect(report.items).toBeGreaterThan(50);
    expectTargets(report);
  });
});
