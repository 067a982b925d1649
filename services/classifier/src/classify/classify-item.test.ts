import type { Alert, Classification, ClassifyInput, FeedItem } from '@regwatch/contracts';
import { compileRules, loadRules } from '@regwatch/rules';
import { describe, expect, it } from 'vitest';
import { classifyItem } from './classify-item.js';

const item: FeedItem = {
  id: 'iabc',
  feedId: 'wire',
  url: 'https://news.example/a',
  title: 'Title',
  summary: 'Summary',
  published: '2026-11-28T00:00:00.000Z',
  publishedEstimated: false,
  fetchedAt: '2026-11-28T00:00:01.000Z',
  categories: [],
};

function classification(flagged: boolean): Classification {
  return {
    flagged,
    score: flagged ? 0.9 : 0.1,
    severity: flagged ? 'high' : 'info',
    topics: flagged ? ['export_controls'] : [],
    jurisdictions: flagged ? ['US'] : [],
    entities: [],
    evidence: [],
    rulesVersion: 't1',
    identifiers: flagged
      ? [
          { kind: 'eccn', value: '3A090', text: '3A090', field: 'title', start: 0, end: 5 },
          { kind: 'eccn', value: '3A090', text: '3A090', field: 'summary', start: 9, end: 14 },
        ]
      : [],
    storyId: 'st-0000000000000001',
  };
}

function deps(flagged: boolean) {
  const saved: Alert[] = [];
  const published: Alert[] = [];
  return {
    saved,
    published,
    deps: {
      classify: () => classification(flagged),
      assignStory: async () => 'st-00000000000000aa',
      saveAlert: async (a: Alert) => {
        saved.push(a);
        return true;
      },
      publish: async (alerts: Alert[]) => {
        published.push(...alerts);
      },
      now: () => new Date('2026-11-28T00:00:02.000Z'),
    },
  };
}

describe('classifyItem', () => {
  it('stores and publishes a flagged item as an alert in its clustered story', async () => {
    const t = deps(true);
    const outcome = await classifyItem(item, t.deps);
    expect(outcome).toEqual({ flagged: true, alertId: 'a-iabc', storyId: 'st-00000000000000aa' });
    expect(t.saved).toHaveLength(1);
    expect(t.published[0]).toMatchObject({
      id: 'a-iabc',
      storyId: 'st-00000000000000aa',
      fetchedAt: item.fetchedAt,
      sources: [{ feedId: 'wire', itemId: 'iabc', url: item.url }],
    });
  });

  it('publishes again when the alert was stored by an earlier attempt', async () => {
    const t = deps(true);
    t.deps.saveAlert = async () => false;
    await classifyItem(item, t.deps);
    expect(t.published).toHaveLength(1);
  });

  it('does nothing for an item that is not flagged', async () => {
    const t = deps(false);
    expect(await classifyItem(item, t.deps)).toEqual({ flagged: false, score: 0.1 });
    expect(t.saved).toHaveLength(0);
    expect(t.published).toHaveLength(0);
  });

  it('carries identifiers into the alert as kind and value, once each', async () => {
    const t = deps(true);
    await classifyItem(item, t.deps);
    expect(t.published[0]!.identifiers).toEqual([{ kind: 'eccn', value: '3A090' }]);
  });

  it('flags a Federal Register-like item with the real rules and lists its identifiers', async () => {
    const engine = compileRules(loadRules());
    const t = deps(true);
    const real = { ...t.deps, classify: (input: ClassifyInput) => engine.classify(input) };
    const fr: FeedItem = {
      ...item,
      id: 'ifr1',
      feedId: 'fr-bis',
      url: 'https://www.federalregister.gov/documents/2025/01/16/2025-00711/export-controls-advanced-computing',
      title:
        'Export Administration Regulations: Revisions to License Requirements for Advanced Computing Items (3A090, 4A090)',
      summary:
        'The Bureau of Industry and Security (BIS) amends the Export Administration Regulations (EAR) to impose new ' +
        'license requirements on exports to China of advanced integrated circuits classified under ECCN 3A090.a and ' +
        'computers under 4A090.a, and revises 15 CFR 744.23. FR Doc. 2025-00711 · 90 FR 4544 · 15 CFR 734, 740 and 744 · ' +
        'Effective 2025-01-15 · Comments due 2025-03-17',
    };
    const outcome = await classifyItem(fr, real);
    expect(outcome.flagged).toBe(true);
    const alert = t.published[0]!;
    expect(alert.topics).toContain('export_controls');
    expect(alert.identifiers).toEqual([
      { kind: 'eccn', value: '3A090' },
      { kind: 'eccn', value: '4A090' },
      { kind: 'eccn', value: '3A090.a' },
      { kind: 'eccn', value: '4A090.a' },
      { kind: 'cfr', value: '15 CFR 744.23' },
      { kind: 'fr_doc', value: '2025-00711' },
      { kind: 'fr_citation', value: '90 FR 4544' },
      { kind: 'cfr', value: '15 CFR 734' },
      { kind: 'cfr', value: '15 CFR 740' },
      { kind: 'cfr', value: '15 CFR 744' },
      { kind: 'effective_date', value: '2025-01-15' },
      { kind: 'comment_deadline', value: '2025-03-17' },
    ]);
  });
});
