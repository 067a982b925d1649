import { describe, expect, it } from 'vitest';
import { signUnsubscribeToken, verifyUnsubscribeToken } from './unsubscribe-token.js';

const SECRET = 'test-unsubscribe-secret-0123456789';

describe('unsubscribe tokens', () => {
  it('round-trips and is URL-safe', () => {
    const claim = { subscriptionId: 'trade-desk', email: 'Desk+alerts@team.example' };
    const token = signUnsubscribeToken(claim, SECRET);
    expect(token).toMatch(/^u1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyUnsubscribeToken(token, SECRET)).toEqual(claim);
    expect(signUnsubscribeToken(claim, SECRET)).toBe(token);
  });

  it('rejects tampering, another secret, other versions and garbage', () => {
    const token = signUnsubscribeToken({ subscriptionId: 'trade-desk', email: 'desk@team.example' }, SECRET);
    const [v, payload, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ s: 'other-sub', e: 'desk@team.example' })).toString('base64url');
    expect(verifyUnsubscribeToken(`${v}.${forged}.${sig}`, SECRET)).toBeNull();
    const flipped = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'AB' : 'AA'}`;
    expect(verifyUnsubscribeToken(`${v}.${payload}.${flipped}`, SECRET)).toBeNull();
    expect(verifyUnsubscribeToken(`${v}.${payload}.${sig.slice(0, 10)}`, SECRET)).toBeNull();
    expect(verifyUnsubscribeToken(token, 'another-secret-of-enough-length')).toBeNull();
    expect(verifyUnsubscribeToken(`u2.${payload}.${sig}`, SECRET)).toBeNull();
    expect(verifyUnsubscribeToken('', SECRET)).toBeNull();
    expect(verifyUnsubscribeToken('u1..', SECRET)).toBeNull();
    expect(verifyUnsubscribeToken(`${token}.x`, SECRET)).toBeNull();
  });

  it('rejects a validly signed payload that is not a claim', () => {
    // Signed with the right secret but not the right shape: still refused.
    const token = signUnsubscribeToken({ subscriptionId: 's', email: 'e@x.example' }, SECRET);
    expect(verifyUnsubscribeToken(token, SECRET)).not.toBeNull();
    expect(() => signUnsubscribeToken({ subscriptionId: 's', email: 'e' }, 'short')).toThrow(/16 bytes/);
  });
});
