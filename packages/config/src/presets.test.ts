import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigText, readConfigFile } from './index.js';
import { problemsOf } from './testing.js';

describe('feed presets in a config file', () => {
  it('expands `preset:` entries with overrides next to plain feeds', () => {
    const cfg = parseConfigText(
      `feeds:
  - { id: plain, url: "https://example.com/rss" }
  - preset: mofcom-export-control
  - { preset: fr-bis, id: bis-rules, intervalSeconds: 600, enabled: false }
  - preset: ofac-recent-actions
    selectors: { date: "span.date" }
`,
      'c.yaml',
      {},
    );
    expect(cfg.feeds.map((f) => f.id)).toEqual(['plain', 'mofcom-export-control', 'bis-rules', 'ofac-recent-actions']);
    expect(cfg.feeds[0]).toMatchObject({ url: 'https://example.com/rss' });
    expect(cfg.feeds[1]).toMatchObject({ type: 'html', lang: 'zh', jurisdiction: 'CN', intervalSeconds: 1800 });
    expect(cfg.feeds[2]).toMatchObject({
      type: 'federalregister',
      agencies: ['industry-and-security-bureau'],
      intervalSeconds: 600,
      enabled: false,
    });
    expect(cfg.feeds[3]).toMatchObject({ selectors: { item: '.view-content .views-row', date: 'span.date' } });
  });

  it('names a bad preset id with close ids, and a bad override at its path', () => {
    const problems = problemsOf(() =>
      parseConfigText(
        'feeds:\n  - { id: a, url: "https://example.com/rss" }\n  - preset: gacc-anouncements\n  - { preset: fr-ofac, intervalSeconds: 5 }\n  - { preset: 42 }\n',
        'c.yaml',
        {},
      ),
    );
    expect(problems[0]).toMatch(
      /^feeds\[1\]\.preset: unknown preset "gacc-anouncements"; did you mean "gacc-announcements"/,
    );
    expect(problems[1]).toBe('feeds[3].preset: must be a preset id such as "fr-bis"');
    expect(problems).toHaveLength(2);
    const override = problemsOf(() =>
      parseConfigText('feeds:\n  - { preset: fr-ofac, intervalSeconds: 5 }\n', 'c', {}),
    );
    expect(override).toHaveLength(1);
    expect(override[0]).toMatch(/^feeds\[0\]\.intervalSeconds: /);
  });

  it('reports duplicate ids between two uses of one preset', () => {
    const problems = problemsOf(() =>
      parseConfigText('feeds:\n  - preset: uk-ecju\n  - preset: uk-ecju\n', 'c.yaml', {}),
    );
    expect(problems).toEqual(['feeds[1].id: duplicate id "uk-ecju" (first used by feeds[0])']);
  });
});

describe('infra/config/default.yaml', () => {
  it('loads, and takes its official sources from the catalogue', () => {
    const cfg = readConfigFile(fileURLToPath(new URL('../../../infra/config/default.yaml', import.meta.url)), {});
    const byId = new Map(cfg.feeds.map((f) => [f.id, f]));
    for (const id of [
      'mofcom-export-control',
      'gacc-announcements',
      'ofac-recent-actions',
      'fr-bis',
      'fr-ustr',
      'meti-news',
    ]) {
      expect(byId.has(id), id).toBe(true);
    }
    expect(byId.get('mofcom-export-control')).toMatchObject({ type: 'html', enabled: true });
    expect(byId.get('gacc-announcements')).toMatchObject({ type: 'html', enabled: false });
    expect(byId.get('fr-cbp')).toMatchObject({ type: 'federalregister' });
  });
});
