import { createHmac, timingSafeEqual } from 'node:crypto';

/** Who a one-click unsubscribe link is for. */
export interface UnsubscribeClaim {
  subscriptionId: string;
  email: string;
}

// The version is the token's first part and is signed with the rest, so a later format (an expiry,
// another claim) can be told apart and an old token cannot be replayed as a new-format one.
const VERSION = 'u1';
const MAX_TOKEN_LENGTH = 2_048;

function mac(secret: string | Buffer, payload: string): Buffer {
  return createHmac('sha256', secret).update(`regwatch-unsubscribe.${VERSION}.${payload}`).digest();
}

function checkSecret(secret: string | Buffer): void {
  if (secret.length < 16) throw new Error('the unsubscribe secret must be at least 16 bytes');
}

/**
 * A URL-safe token `u1.<claim>.<signature>`: the claim is base64url JSON, the signature
 * HMAC-SHA256 over the version and claim, base64url. It does not expire — an unsubscribe link
 * must keep working in an old mail — and is not secret: anyone holding it may unsubscribe that
 * address from that subscription, which is what a one-click link is for.
 */
export function signUnsubscribeToken(claim: UnsubscribeClaim, secret: string | Buffer): string {
  checkSecret(secret);
  const payload = Buffer.from(JSON.stringify({ s: claim.subscriptionId, e: claim.email }), 'utf8').toString(
    'base64url',
  );
  return `${VERSION}.${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** The claim of a token signed with `secret`, or null when it is malformed, of another version or tampered with. */
export function verifyUnsubscribeToken(token: string, secret: string | Buffer): UnsubscribeClaim | null {
  checkSecret(secret);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return null;
  const [, payload, signature] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(signature)) return null;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claim = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { s?: unknown; e?: unknown };
    if (typeof claim.s !== 'string' || typeof claim.e !== 'string') return null;
    return { subscriptionId: claim.s, email: claim.e };
  } catch {
    return null;
  }
}
