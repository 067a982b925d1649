import type { OpsEventJob } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { buildOpsWebhookEvent, OpsWebhookEventSchema, opsDeliveryId } from './ops-event.js';
import { renderOpsEmail } from './render-ops-email.js';

const opened: OpsEventJob = {
  v: 1,
  transition: 'opened',
  incident: {
    id: 'mofcom-export-control-silent-1772611200000',
    feedId: 'mofcom-export-control',
    kind: 'silent',
    openedAt: '2026-03-04T08:00:00.000Z',
    detail: 'no new item for 9 days; it usually brings one every 24 h (p90 2 days, alarm after 8 days)',
  },
  feedName: 'MOFCOM export-control announcements',
  feedUrl: 'https://www.mofcom.gov.cn/zwgk/zcfb/index.html',
  at: '2026-03-04T08:00:00.000Z',
};

const resolved: OpsEventJob = {
  ...opened,
  transition: 'resolved',
  incident: { ...opened.incident, resolvedAt: '2026-03-05T10:00:00.000Z' },
  at: '2026-03-05T10:00:00.000Z',
};

describe('renderOpsEmail', () => {
  it('says which source, what is wrong and since when', () => {
    const m = renderOpsEmail(opened);
    expect(m.subject).toBe('[regwatch ops] Source mofcom-export-control is silent');
    expect(m.text).toContain(
      'MOFCOM export-control announcements (mofcom-export-control) is silent: no new item for 9 days',
    );
    expect(m.text).toContain('Since 2026-03-04 08:00 UTC.');
    expect(m.text).toContain('Source: https://www.mofcom.gov.cn/zwgk/zcfb/index.html');
    expect(m.headers['Auto-Submitted']).toBe('auto-generated');
  });

  it('words each kind and the recovery', () => {
    const kind = (k: 'empty' | 'failing') => ({ ...opened, incident: { ...opened.incident, kind: k } });
    expect(renderOpsEmail(kind('empty')).subject).toBe('[regwatch ops] Source mofcom-export-control yields no items');
    expect(renderOpsEmail(kind('failing')).subject).toBe('[regwatch ops] Source mofcom-export-control is failing');
    const r = renderOpsEmail(resolved);
    expect(r.subject).toBe('[regwatch ops] Source mofcom-export-control recovered (was silent)');
    expect(r.text).toContain('from 2026-03-04 08:00 UTC to 2026-03-05 10:00 UTC');
  });

  it('escapes what came from config and the feed, and drops a URL that is not http(s)', () => {
    const hostile: OpsEventJob = {
      ...opened,
      feedName: '<img src=x onerror=alert(1)>\r\nBcc: victim@example.com',
      feedUrl: 'javascript:alert(1)',
      incident: { ...opened.incident, detail: 'FEED_PARSE: <script>alert(1)</script>' },
    };
    const m = renderOpsEmail(hostile);
    expect(m.html).not.toMatch(/<img|<script/);
    expect(m.html).toContain('&lt;script&gt;');
    expect(m.text).not.toContain('javascript:');
    expect(m.html).not.toContain('javascript:');
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.text).toContain('<img src=x onerror=alert(1)> Bcc: victim@example.com (mofcom-export-control)');
    expect(Object.keys(m.headers)).toEqual(['Auto-Submitted', 'X-Auto-Response-Suppress']);
  });
});

describe('buildOpsWebhookEvent', () => {
  it('is a Standard Webhooks body that only depends on the job', () => {
    const e = buildOpsWebhookEvent(opened);
    expect(OpsWebhookEventSchema.parse(e)).toEqual(e);
    expect(e).toEqual({
      type: 'source.incident.opened',
      timestamp: '2026-03-04T08:00:00.000Z',
      data: {
        incidentId: 'mofcom-export-control-silent-1772611200000',
        transition: 'opened',
        feedId: 'mofcom-export-control',
        feedName: 'MOFCOM export-control announcements',
        feedUrl: 'https://www.mofcom.gov.cn/zwgk/zcfb/index.html',
        kind: 'silent',
        openedAt: '2026-03-04T08:00:00.000Z',
        detail: opened.incident.detail,
      },
    });
    expect(JSON.stringify(buildOpsWebhookEvent(opened))).toBe(JSON.stringify(e));
    expect(buildOpsWebhookEvent(resolved)).toMatchObject({
      type: 'source.incident.resolved',
      data: { resolvedAt: '2026-03-05T10:00:00.000Z' },
    });
  });

  it('gives each transition its own delivery id', () => {
    expect(opsDeliveryId(opened)).toBe('ops-mofcom-export-control-silent-1772611200000-opened');
    expect(opsDeliveryId(resolved)).toBe('ops-mofcom-export-control-silent-1772611200000-resolved');
  });
});
