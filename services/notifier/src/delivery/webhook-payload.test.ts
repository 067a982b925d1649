import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { webhookPayloadJsonSchema } from './webhook-payload.js';

const DOC = fileURLToPath(new URL('../../../../docs/webhook-payload.schema.json', import.meta.url));

describe('docs/webhook-payload.schema.json', () => {
  it('is the JSON Schema generated from WebhookPayloadSchema (UPDATE_GOLDEN=1 rewrites it)', () => {
    const generated = `${JSON.stringify(webhookPayloadJsonSchema(), null, 2)}\n`;
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(DOC, generated);
    expect(readFileSync(DOC, 'utf8')).toBe(generated);
  });
});
