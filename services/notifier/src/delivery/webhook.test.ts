import type { Alert } from '@regwatch/contracts';
import { PermanentError } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { buildWebhookEvent, parseRetryAfter } from './webhook.js';
import { WebhookPayloadSchema } from './webhook-payload.js';

function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    id,
    storyId: 'story-9',
    itemId: `item-${id}`,
    feedId: 'bis-press',
    title: `Title ${id}`,
    summary: `Summary ${id}`,
    published: '2025-03-01T10:00:00Z',
    score: 0.8,
    severity: 'notice',
    topics: ['export_controls'],
    jurisdictions: ['US'],
    entities: ['BIS'],
    evidence: [],
    rulesVersion: 'r1',
    sources: [{ feedId: 'bis-press', itemId: `item-${id}`, title: `Title ${id}`, published: '2025-03-01T10:00:00Z' }],
    createdAt: '2025-03-01T10:01:00Z',
    ...over,
  };
}

describe('buildWebhookEvent', () => {
  it('builds alert.created from one alert, valid against the published schema', () => {
    const e = buildWebhookEvent([alert('a1', { url: 'https://x.example/1' })], 'd-1', { why: ['entity:BIS'] });
    expect(WebhookPayloadSchema.parse(e)).toEqual(e);
    expect(e).toMatchObject({ type: 'alert.created', timestamp: '2025-03-01T10:01:00.000Z' });
    expect(e.data).toMatchObject({
      id: 'a1',
      storyId: 'story-9',
      url: 'https://x.example/1',
      severity: 'notice',
      why: ['entity:BIS'],
    });
    expect(e.data.url).toBe('https://x.example/1');
  });

  it('merges all sources of a story, keeps the first alert as its face, and calls it an update', () => {
    const later = alert('a2', {
      feedId: 'reuters',
      createdAt: '2025-03-01T12:00:00Z',
      severity: 'high',
      jurisdictions: ['CN'],
      entities: ['bis', 'Huawei'],
      sources: [{ feedId: 'reuters', itemId: 'r-7', title: 'Reuters', published: '2025-03-01T11:00:00Z' }],
    });
    const e = buildWebhookEvent([later, alert('a1')], 'd-2');
    expect(e.type).toBe('alert.updated');
    expect(e.timestamp).toBe('2025-03-01T12:00:00.000Z');
    expect(e.data.id).toBe('a1');
    expect(e.data.title).toBe('Title a1');
    expect(e.data.severity).toBe('high');
    expect(e.data.jurisdictions).toEqual(['US', 'CN']);
    expect(e.data.entities).toEqual(['BIS', 'Huawei']);
    expect(e.data.sources.map((s) => s.itemId)).toEqual(['item-a1', 'r-7']);
    expect(e).not.toHaveProperty('data.url');
  });

  it('lets the caller say created or updated, and is the same for the same input', () => {
    const alerts = [alert('a1'), alert('a2')];
    expect(buildWebhookEvent(alerts, 'd', { type: 'alert.created' }).type).toBe('alert.created');
    expect(JSON.stringify(buildWebhookEvent(alerts, 'd'))).toBe(
      JSON.stringify(buildWebhookEvent([...alerts].reverse(), 'd')),
    );
  });

  it('refuses an empty story, mixed stories and an id unusable as webhook-id', () => {
    expect(() => buildWebhookEvent([], 'd')).toThrow(PermanentError);
    expect(() => buildWebhookEvent([alert('a1'), alert('b1', { storyId: 'other' })], 'd')).toThrow(/different stories/);
    expect(() => buildWebhookEvent([alert('a1')], 'bad id\r\nx: y')).toThrow(/deliveryId/);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T10:00:00Z');
  it('reads delta-seconds and HTTP dates, caps them, ignores nonsense', () => {
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 10:02:00 GMT', now)).toBe(120_000);
    expect(parseRetryAfter('999999999', now)).toBe(36_000_000);
    expect(parseRetryAfter('0', now)).toBeUndefined();
    expect(parseRetryAfter('Sat, 01 Mar 2025 09:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
