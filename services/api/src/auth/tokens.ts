import { createHash, randomBytes } from 'node:crypto';
import { stateKey } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * `admin` may do everything; `ops` reads everything and acts on queues and dead letters;
 * `team:<name>` sees and manages its own subscriptions and the alerts they match, nothing else.
 */
export const RoleSchema = z.union([
  z.literal('admin'),
  z.literal('ops'),
  z
    .string()
    .regex(
      /^team:[a-z0-9][a-z0-9_-]{0,63}$/,
      'must be "admin", "ops" or "team:<team>" with the team slug used by subscriptions',
    ) as z.ZodType<`team:${string}`>,
]);
export type Role = z.infer<typeof RoleSchema>;

/** What the API knows about a token; the token itself is never stored. */
export interface TokenRecord {
  /** A short public id, for listing and revoking (`tok_…`). */
  id: string;
  role: Role;
  /** Who or what it is for, as given at creation. */
  name: string;
  createdAt: string;
  /** SHA-256 of the token, hex: the Redis key and the rate-limit key. */
  hash: string;
}

/** The team of a `team:<name>` role, else undefined. */
export function teamOf(role: Role): string | undefined {
  return role.startsWith('team:') ? role.slice('team:'.length) : undefined;
}

const TOKEN_PREFIX = 'rw_';

/**
 * The tokens are 32 random bytes, so one SHA-256 (no salt, no slow hash) is enough: there is no
 * dictionary to attack, and a lookup costs one Redis round trip per request.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** API tokens in Redis: one hash per token under its SHA-256, plus an id → hash index. */
export class TokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(hash: string): string {
    return stateKey(this.prefix, 'api-token', hash);
  }

  private index(): string {
    return stateKey(this.prefix, 'api-tokens');
  }

  /** Creates a token; the plain token is returned once and cannot be read back. */
  async create(role: Role, name: string, now = new Date()): Promise<{ token: string; record: TokenRecord }> {
    const parsedRole = RoleSchema.parse(role);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const hash = hashToken(token);
    const record: TokenRecord = {
      id: `tok_${randomBytes(6).toString('hex')}`,
      role: parsedRole,
      name: name.slice(0, 200),
      createdAt: now.toISOString(),
      hash,
    };
    await this.redis
      .multi()
      .hset(this.key(hash), { id: record.id, role: record.role, name: record.name, createdAt: record.createdAt })
      .hset(this.index(), record.id, hash)
      .exec();
    return { token, record };
  }

  /** The record of a presented token, or undefined when it is unknown or revoked. */
  async verify(token: string): Promise<TokenRecord | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
    const hash = hashToken(token);
    const raw = await this.redis.hgetall(this.key(hash));
    const role = RoleSchema.safeParse(raw['role']);
    if (!raw['id'] || !role.success) return undefined;
    return { id: raw['id'], role: role.data, name: raw['name'] ?? '', createdAt: raw['createdAt'] ?? '', hash };
  }

  /** Revokes by id (`tok_…`) or by the token itself; true when something was revoked. */
  async revoke(idOrToken: string): Promise<boolean> {
    let hash: string | null;
    let id: string | undefined;
    if (idOrToken.startsWith(TOKEN_PREFIX)) {
      hash = hashToken(idOrToken);
      id = (await this.redis.hget(this.key(hash), 'id')) ?? undefined;
    } else {
      id = idOrToken;
      hash = await this.redis.hget(this.index(), idOrToken);
    }
    if (!hash) return false;
    const tx = this.redis.multi().del(this.key(hash));
    if (id) tx.hdel(this.index(), id);
    const results = await tx.exec();
    return results?.[0]?.[1] === 1;
  }

  /** Every token's record (never the token). */
  async list(): Promise<TokenRecord[]> {
    const index = await this.redis.hgetall(this.index());
    const entries = Object.entries(index);
    if (entries.length === 0) return [];
    const tx = this.redis.pipeline();
    for (const [, hash] of entries) tx.hgetall(this.key(hash));
    const results = (await tx.exec()) ?? [];
    const out: TokenRecord[] = [];
    entries.forEach(([id, hash], i) => {
      const raw = (results[i]?.[1] ?? {}) as Record<string, string>;
      const role = RoleSchema.safeParse(raw['role']);
      if (role.success)
        out.push({ id, role: role.data, name: raw['name'] ?? '', createdAt: raw['createdAt'] ?? '', hash });
    });
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
