import { readFileSync } from 'node:fs';
import { FeedSourceSchema, federalRegisterQueryUrl } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import {
  closestPresetIds,
  DEFAULT_CATALOG_PATH,
  feedFromPreset,
  listPresets,
  parseCatalog,
  presetById,
  SourcesError,
} from './index.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SourcesError);
    return (err as SourcesError).problems;
  }
  throw new Error('expected a SourcesError');
}

describe('the shipped catalogue', () => {
  const presets = listPresets();

  it('has the issue-10 presets, each a valid feed source with unique ids', () => {
    const ids = presets.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'mofcom-export-control',
      'mofcom-press',
      'gacc-announcements',
      'bis-press',
      'ofac-recent-actions',
      'fr-bis',
      'fr-ofac',
      'fr-cbp',
      'fr-ustr',
      'uk-ecju',
      'meti-news',
      'eurlex-oj-l',
    ]) {
      expect(ids).toContain(id);
    }
    for (const p of presets) {
      // Parsed again from scratch, not trusting the loader's copy.
      const parsed = FeedSourceSchema.safeParse(p.feed);
      expect(parsed.success, `${p.id}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      expect(p.feed.id).toBe(p.id);
      expect(p.note.length).toBeGreaterThan(40);
      expect(p.url).toMatch(/^https?:\/\//);
    }
  });

  it('says honestly that no preset has been seen working', () => {
    expect(presets.every((p) => p.verified === false)).toBe(true);
    expect(readFileSync(DEFAULT_CATALOG_PATH, 'utf8')).toMatch(/cannot reach these sites/);
  });

  it('has the source types the issue names', () => {
    const type = (id: string) => presetById(id).type;
    expect(type('mofcom-export-control')).toBe('html');
    expect(type('gacc-announcements')).toBe('html');
    expect(type('ofac-recent-actions')).toBe('html');
    expect(type('uk-ecju')).toBe('rss');
    expect(type('meti-news')).toBe('rss');
    expect(type('eurlex-oj-l')).toBe('rss');
    expect(presetById('mofcom-export-control')).toMatchObject({ jurisdiction: 'CN', language: 'zh' });
    expect(presetById('meti-news')).toMatchObject({ jurisdiction: 'JP', language: 'ja' });
    const slugs = {
      'fr-bis': 'industry-and-security-bureau',
      'fr-ofac': 'foreign-assets-control-office',
      'fr-cbp': 'u-s-customs-and-border-protection',
      'fr-ustr': 'trade-representative-office-of-united-states',
    };
    for (const [id, slug] of Object.entries(slugs)) {
      const p = presetById(id);
      expect(p.type).toBe('federalregister');
      expect(p.url).toBe(federalRegisterQueryUrl({ agencies: [slug] }));
      expect(new URL(p.url).searchParams.getAll('conditions[agencies][]')).toEqual([slug]);
    }
  });
});

describe('feedFromPreset', () => {
  it('lays overrides over the preset, selectors one level deep', () => {
    const feed = feedFromPreset('mofcom-export-control', {
      id: 'mofcom-ec',
      intervalSeconds: 600,
      selectors: { date: 'span.time' },
    });
    expect(feed).toMatchObject({
      id: 'mofcom-ec',
      type: 'html',
      intervalSeconds: 600,
      lang: 'zh',
      jurisdiction: 'CN',
      title: presetById('mofcom-export-control').title,
      selectors: { item: '.txtList_01 li', link: 'a@href', date: 'span.time' },
    });
  });

  it('lets a Federal Register preset take a whole query URL instead of its agencies', () => {
    const url = 'https://www.federalregister.gov/api/v1/documents.json?conditions[term]=semiconductor';
    const feed = feedFromPreset('fr-bis', { url });
    expect(feed).toMatchObject({ type: 'federalregister', url });
    expect('agencies' in feed && feed.agencies).toBeFalsy();
  });

  it('names a bad override and an unknown id with close ids', () => {
    expect(problemsOf(() => feedFromPreset('fr-bis', { intervalSeconds: 5 }))[0]).toMatch(/^intervalSeconds: /);
    expect(problemsOf(() => feedFromPreset('fr-bis', { id: 'Not A Slug' }))[0]).toMatch(/^id: /);
    const [unknown] = problemsOf(() => feedFromPreset('mofcom-export-contrl'));
    expect(unknown).toContain('unknown preset "mofcom-export-contrl"');
    expect(unknown).toContain('did you mean "mofcom-export-control"');
    expect(closestPresetIds('ofac')).toContain('fr-ofac');
    expect(closestPresetIds('zzzzzzzzzzzz')).toEqual([]);
  });
});

describe('parseCatalog', () => {
  const preset = (id: string, source: string) =>
    `  - id: ${id}\n    title: T\n    publisher: P\n    jurisdiction: US\n    language: en\n    verified: false\n    note: n\n    source: ${source}\n`;

  it('reports each bad preset at its path, including its feed fields', () => {
    const text = `version: 1\npresets:\n${preset('a', '{ type: html, url: "https://x.example/" }')}${preset(
      'a',
      '{ url: "https://x.example/feed" }',
    )}${preset('c', '{ type: html, url: "https://x.example/", selectors: { item: li, title: a } }')}${preset(
      'd',
      '{ id: d, url: "ftp://x" }',
    )}`;
    const problems = problemsOf(() => parseCatalog(text, 'cat.yaml'));
    expect(problems).toContain(
      'cat.yaml: presets[3].source: must not set `id`: the preset id (or the config entry) names the feed',
    );
  });

  it('validates feed fields once the entries are well-formed', () => {
    const text = `version: 1\npresets:\n${preset('a', '{ type: html, url: "https://x.example/" }')}${preset(
      'a',
      '{ url: "https://x.example/feed" }',
    )}${preset('c', '{ type: html, url: "https://x.example/", selectors: { item: li, title: a } }')}${preset(
      'e',
      '{ type: gopher, url: "https://x.example/" }',
    )}`;
    const problems = problemsOf(() => parseCatalog(text, 'cat.yaml'));
    expect(problems.some((p) => p.startsWith('cat.yaml: presets[0].source.selectors:'))).toBe(true);
    expect(problems).toContain('cat.yaml: presets[1].id: duplicate id "a" (first used by presets[0])');
    expect(problems.some((p) => p.startsWith('cat.yaml: presets[2].source.selectors.link:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('cat.yaml: presets[3].source.type:'))).toBe(true);
  });

  it('rejects unparseable YAML and unknown keys', () => {
    expect(problemsOf(() => parseCatalog('presets: [', 'c.yaml'))[0]).toMatch(/^c\.yaml: not valid YAML: /);
    expect(problemsOf(() => parseCatalog('version: 1\npresets: []\nextra: 1', 'c.yaml')).join('\n')).toMatch(
      /presets|extra/,
    );
  });
});
