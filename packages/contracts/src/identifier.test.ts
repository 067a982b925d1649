import { describe, expect, it } from 'vitest';
import { identifierAncestorKeys, identifierKey, parseIdentifierQuery } from './identifier.js';
import { SubscriptionFilterSchema } from './subscription.js';

describe('parseIdentifierQuery', () => {
  it.each([
    ['3A090', 'eccn', '3A090'],
    ['3a090.A', 'eccn', '3A090.a'],
    ['5A002.a.1', 'eccn', '5A002.a.1'],
    ['EAR99', 'eccn', 'EAR99'],
    ['9x515', 'eccn', '9x515'],
    ['8542', 'hs', '8542'],
    ['HS 8542.31', 'hs', '8542.31'],
    ['854231', 'hs', '8542.31'],
    ['HTS 8471.50.0150', 'hs', '8471.50.0150'],
    ['8542310000', 'hs', '8542.31.0000'],
    ['15 CFR 744', 'cfr', '15 CFR 744'],
    ['15 C.F.R. § 744.21', 'cfr', '15 CFR 744.21'],
    ['part 744', 'cfr', '15 CFR 744'],
    ['§ 744.23', 'cfr', '15 CFR 744.23'],
    ['2025-12345', 'fr_doc', '2025-12345'],
    ['FR Doc. 2025-12345', 'fr_doc', '2025-12345'],
    ['90 FR 12345', 'fr_citation', '90 FR 12345'],
    ['90 Fed. Reg. 12345', 'fr_citation', '90 FR 12345'],
    ['hs:8542', 'hs', '8542'],
  ])('%s → %s %s', (text, kind, value) => {
    expect(parseIdentifierQuery(text)).toEqual({ kind, value });
  });

  it.each(['', 'NVIDIA', '3x090', '854', '85423', 'part 12', 'eccn:8542', '2025', 'A100'])('rejects %j', (text) => {
    expect(parseIdentifierQuery(text)).toHaveProperty('error');
  });
});

describe('identifier keys', () => {
  it('keys HS codes by digits so every spelling agrees', () => {
    expect(identifierKey({ kind: 'hs', value: '8542.31' })).toBe('hs:854231');
  });

  it('lists the identifier and every parent', () => {
    expect(identifierAncestorKeys({ kind: 'eccn', value: '3A090.a.1' })).toEqual([
      'eccn:3A090.a.1',
      'eccn:3A090.a',
      'eccn:3A090',
    ]);
    expect(identifierAncestorKeys({ kind: 'eccn', value: '9A515.a' })).toEqual([
      'eccn:9A515.a',
      'eccn:9A515',
      'eccn:9x515',
    ]);
    expect(identifierAncestorKeys({ kind: 'hs', value: '8471.50.0150' })).toEqual([
      'hs:8471500150',
      'hs:84715001',
      'hs:847150',
      'hs:8471',
    ]);
    expect(identifierAncestorKeys({ kind: 'cfr', value: '15 CFR 744.21' })).toEqual([
      'cfr:15 CFR 744.21',
      'cfr:15 CFR 744',
    ]);
    expect(identifierAncestorKeys({ kind: 'fr_doc', value: '2025-12345' })).toEqual(['fr_doc:2025-12345']);
  });
});

describe('SubscriptionFilterSchema.identifiers', () => {
  it('names the bad entry', () => {
    const r = SubscriptionFilterSchema.safeParse({ identifiers: ['3A090', 'NVIDIA H20'] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['identifiers', 1]);
    expect(r.error!.issues[0]!.message).toMatch(/not a trade-control identifier/);
  });

  it('asks for quotes when YAML made a code a number', () => {
    const r = SubscriptionFilterSchema.safeParse({ identifiers: [8542.31] });
    expect(r.error!.issues[0]!.message).toBe(
      'must be a string: quote codes such as "8542.31" (YAML reads them as numbers)',
    );
  });
});
