import { FeedSourceSchema } from '@regwatch/contracts';
import { initialSourceHealth } from '@regwatch/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi } from './testing.js';

const fileFeeds = [
  FeedSourceSchema.parse({ id: 'mofcom-export-control', url: 'https://mofcom.example/list.html', title: 'MOFCOM' }),
  FeedSourceSchema.parse({ id: 'quiet-new-feed', url: 'https://quiet.example/feed.xml' }),
];
const DAY = 86_400_000;
const empty = {
  id: 'mofcom-export-control-empty-1772611200000',
  feedId: 'mofcom-export-control',
  kind: 'empty' as const,
  openedAt: '2026-03-04T08:00:00.000Z',
  detail: 'the last 2 polls found no item in the document, which used to list some: <check> the selectors',
};

let api: Awaited<ReturnType<typeof createTestApi>>;
beforeAll(async () => {
  api = await createTestApi({ fileFeeds });
  await api.app.ctx.sourceHealth.save('mofcom-export-control', {
    ...initialSourceHealth(),
    open: { empty },
    hasYielded: true,
    lastArrivalAt: '2026-03-03T08:00:00.000Z',
    cadence: { gaps: 12, p50Ms: DAY, p90Ms: 2 * DAY, silentAfterMs: 8 * DAY },
  });
});
afterAll(async () => {
  await api.close();
});

describe('source alarms in the api (real Redis)', () => {
  it('GET /v1/feeds/{id}/health shows open incidents and the learnt cadence', async () => {
    const res = await api.app.inject({
      url: '/v1/feeds/mofcom-export-control/health',
      headers: await api.headers('ops'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      consecutiveFailures: 0,
      incidents: [empty],
      cadence: { gaps: 12, p50Ms: DAY, p90Ms: 2 * DAY, silentAfterMs: 8 * DAY },
      lastArrivalAt: '2026-03-03T08:00:00.000Z',
    });
    const quiet = await api.app.inject({ url: '/v1/feeds/quiet-new-feed/health', headers: await api.headers('ops') });
    expect(quiet.json()).toEqual({ consecutiveFailures: 0, itemsSeen: 0, incidents: [] });
    const list = await api.app.inject({ url: '/v1/feeds?health=true', headers: await api.headers('ops') });
    expect(list.json().feeds[0].health.incidents).toEqual([empty]);
  });

  it('the ops console lists open incidents and the cadence, escaped', async () => {
    const res = await api.app.inject({ url: '/ops/', headers: await api.headers('ops') });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('2 feeds, 0 failing, 1 with source alarms');
    expect(res.body).toContain('<th>Source alarms</th>');
    expect(res.body).toMatch(
      /<span class="incident empty" title="[^"]*&lt;check&gt;[^"]*"><strong>empty<\/strong> since/,
    );
    expect(res.body).toContain('new items about every 24 h (p90 2 days); silent after 8 days');
    expect(res.body).toContain('cadence not learnt yet');
  });

  it('/metrics counts open source alarms by kind', async () => {
    const res = await api.app.inject({ url: '/metrics', headers: await api.headers('ops') });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('regwatch_source_incidents_open{kind="empty"} 1');
    expect(res.body).toContain('regwatch_source_incidents_open{kind="silent"} 0');
    expect(res.body).toContain('regwatch_source_incidents_open{kind="failing"} 0');
  });
});
