import type { Alert, Classification, FeedItem } from '@regwatch/contracts';
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
      publish: async (a: Alert) => {
        published.push(a);
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
});
