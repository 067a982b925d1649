import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RulesError } from './errors.js';
import { DEFAULT_TAXONOMY_PATH, loadRules, parseRules, parseRulesYaml } from './taxonomy.js';

/** The bundled taxonomy as a plain object, to break one thing at a time. */
// biome-ignore lint/suspicious/noExplicitAny: the tests reach into arbitrary parts of the YAML tree to break them.
function bundled(): Record<string, any> {
  return parseYaml(readFileSync(DEFAULT_TAXONOMY_PATH, 'utf8'));
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RulesError);
    return [...(err as RulesError).problems];
  }
  throw new Error('expected a RulesError');
}

describe('taxonomy', () => {
  it('loads and validates the bundled file', () => {
    const rules = loadRules();
    expect(rules.version).toMatch(/^\d{4}\.\d+\.\d+$/);
    expect(Object.keys(rules.topics)).toHaveLength(6);
    expect(rules.entities.find((e) => e.name === 'BIS')?.aliases).toContain('bureau of industry and security');
  });

  it('says where a weight is not a number', () => {
    const data = bundled();
    data.topics.export_controls.terms[3].weight = 'heavy';
    expect(problemsOf(() => parseRules(data))).toContain('topics.export_controls.terms[3]: weight must be a number');
  });

  it('refuses references to unknown groups and topics', () => {
    const data = bundled();
    data.combos[0].all[1] = 'no_such_group';
    data.topics.export_controls.terms[0].near = [{ groups: ['topic:piracy'] }];
    const problems = problemsOf(() => parseRules(data));
    expect(problems).toContain('combos[0].all[1]: unknown group "no_such_group"');
    expect(problems).toContain('topics.export_controls.terms[0].near[0].groups[0]: unknown topic "piracy"');
  });

  it('refuses jurisdiction codes outside the contract and topics outside TOPICS', () => {
    const data = bundled();
    data.jurisdictions.usa = [{ terms: ['usa'] }];
    data.topics.piracy = { terms: [{ term: 'pirates', weight: 1 }] };
    const problems = problemsOf(() => parseRules(data));
    expect(problems.some((p) => p.startsWith('jurisdictions'))).toBe(true);
    expect(problems.some((p) => p.startsWith('topics'))).toBe(true);
  });

  it('refuses a bad regular expression and a misplaced wildcard', () => {
    const data = bundled();
    data.patterns[0].regex = '([a-z';
    data.groups.export_word.push('ex*port');
    const problems = problemsOf(() => parseRules(data));
    expect(problems).toContain('patterns[0]: regex must be a valid regular expression');
    expect(problems.some((p) => p.startsWith('groups.export_word['))).toBe(true);
  });

  it('refuses YAML that does not parse, with the code a caller can branch on', () => {
    try {
      parseRulesYaml('version: "1"\ntopics: [unclosed', 'broken.yaml');
      expect.unreachable();
    } catch (err) {
      expect((err as RulesError).code).toBe('RULES_PARSE_FAILED');
      expect((err as RulesError).message).toMatch(/^broken\.yaml: not valid YAML/);
    }
  });

  it('reports a missing file as a read failure', () => {
    expect(() => loadRules('/nonexistent/taxonomy.yaml')).toThrow(/cannot read taxonomy/);
  });
});
