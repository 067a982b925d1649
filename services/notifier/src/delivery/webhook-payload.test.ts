import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Alert } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { buildWebhookEvent } from './webhook.js';
import { WebhookPayloadSchema, webhookPayloadJsonSchema } from './webhook-payload.js';

const DOC = fileURLToPath(new URL('../../../../docs/webhook-payload.schema.json', import.meta.url));

describe('docs/webhook-payload.schema.json', () => {
  it('is the JSON Schema generated from WebhookPayloadSchema (UPDATE_GOLDEN=1 rewrites it)', () => {
    const generated = `${JSON.stringify(webhookPayloadJsonSchema(), null, 2)}\n`;
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(DOC, generated);
    expect(readFileSync(DOC, 'utf8')).toBe(generated);
  });

  it('documents identifiers as a required list of kind and value', () => {
    const doc = JSON.parse(readFileSync(DOC, 'utf8'));
    const data = doc.oneOf[0].properties.data;
    expect(data.required).toContain('identifiers');
    expect(data.properties.identifiers.items.properties.kind.enum).toEqual([
      'eccn',
      'hs',
      'cfr',
      'fr_doc',
      'fr_citation',
      'effective_date',
      'comment_deadline',
    ]);
  });
});

describe('identifiers in the payload', () => {
  const base: Alert = {
    id: 'a1',
    storyId: 's1',
    itemId: 'i1',
    feedId: 'fr-bis',
    title: 'BIS revises controls on 3A090.a',
    summary: 'FR Doc. 2025-12345',
    published: '2025-01-02T03:04:05Z',
    score: 0.9,
    severity: 'high',
    topics: ['export_controls'],
    jurisdictions: ['US'],
    entities: ['BIS'],
    evidence: [],
    rulesVersion: 't',
    sources: [{ feedId: 'fr-bis', itemId: 'i1', title: 't', published: '2025-01-02T03:04:05Z' }],
    createdAt: '2025-01-02T03:05:00Z',
  };

  it('carries the story’s identifiers and the identifier reason, and validates against the schema', () => {
    const event = buildWebhookEvent(
      [
        {
          ...base,
          identifiers: [
            { kind: 'eccn', value: '3A090.a' },
            { kind: 'fr_doc', value: '2025-12345' },
          ],
        },
      ],
      'd-1',
      { why: ['identifier:3A090'] },
    );
    expect(event.data.identifiers).toEqual([
      { kind: 'eccn', value: '3A090.a' },
      { kind: 'fr_doc', value: '2025-12345' },
    ]);
    expect(event.data.why).toEqual(['identifier:3A090']);
    expect(WebhookPayloadSchema.parse(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('sends an empty list for alerts stored before identifiers existed', () => {
    const event = buildWebhookEvent([base], 'd-2');
    expect(event.data.identifiers).toEqual([]);
    expect(WebhookPayloadSchema.safeParse(event).success).toBe(true);
  });
});
