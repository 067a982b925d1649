import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden, unauthorized } from '../http/errors.js';
import { type Role, type TokenStore, teamOf } from './tokens.js';

/** A kind of role a route admits: `team` admits every `team:<name>` token. `admin` is always admitted. */
export type RoleKind = 'admin' | 'ops' | 'team';

/** Who is calling, once the bearer token was verified. */
export interface AuthContext {
  tokenId: string;
  role: Role;
  /** Set for `team:<name>` tokens. */
  team?: string;
  /** SHA-256 of the token: the rate-limit key. */
  tokenHash: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Roles admitted besides `admin`. Unset: admin only — a route added without thinking about
     * access is closed, not open.
     */
    roles?: readonly RoleKind[];
    /** No token needed: probes, the API docs, the signed unsubscribe link. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The verified caller; null on public routes. */
    auth: AuthContext | null;
  }
}

/** True when `role` is one of `kinds` (admin always is). */
export function hasRole(role: Role, kinds: readonly RoleKind[]): boolean {
  if (role === 'admin') return true;
  if (role === 'ops') return kinds.includes('ops');
  return kinds.includes('team');
}

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Authenticates and authorizes every route: a missing or unknown token is 401, a role the
 * route does not admit is 403. Registered with fastify-plugin, so the hook covers routes of
 * every plugin registered after it (the ops console, /metrics) — those declare their roles with
 * route `config.roles`, or all at once with {@link admitRoles}.
 */
export const authPlugin = fp<{ tokens: TokenStore }>(
  async (app, { tokens }) => {
    app.decorateRequest('auth', null);
    app.addHook('onRequest', async (req) => {
      const config = req.routeOptions.config;
      if (config.public) return;
      const token = bearer(req);
      if (!token) throw unauthorized();
      const record = await tokens.verify(token);
      if (!record) throw unauthorized('the bearer token is unknown or was revoked');
      const team = teamOf(record.role);
      req.auth = { tokenId: record.id, role: record.role, tokenHash: record.hash, ...(team ? { team } : {}) };
      // No route matched: the not-found handler answers 404 to any valid token.
      if (req.routeOptions.url === undefined) return;
      const kinds = config.roles ?? [];
      if (!hasRole(record.role, kinds)) {
        throw forbidden(
          `role "${record.role}" may not ${req.method} ${req.routeOptions.url} (allowed: ${['admin', ...kinds].join(', ')})`,
        );
      }
    });
  },
  { name: 'regwatch-auth', fastify: '5.x' },
);

/**
 * Admits `roles` (besides admin) on every route registered later in `instance`'s scope that does
 * not set `config.roles` itself — for plugins whose routes you do not declare, such as bull-board:
 *
 * ```ts
 * app.register(async (ops) => { admitRoles(ops, ['ops']); await ops.register(boardPlugin); }, { prefix: '/ops' });
 * ```
 */
export function admitRoles(instance: FastifyInstance, roles: readonly RoleKind[]): void {
  instance.addHook('onRoute', (route) => {
    if (route.config?.roles === undefined) route.config = { ...route.config, roles };
  });
}

/** Marks every route registered later in `instance`'s scope public (no token): the API docs. */
export function makePublic(instance: FastifyInstance): void {
  instance.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true };
  });
}

/** A hook for routes that check roles themselves: `onRequest: requireRole('ops')`. */
export function requireRole(...kinds: RoleKind[]): onRequestHookHandler {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    if (!req.auth) throw unauthorized();
    if (!hasRole(req.auth.role, kinds)) throw forbidden(`this route needs one of: ${['admin', ...kinds].join(', ')}`);
  };
}

/** The caller's auth, for handlers of non-public routes (the hook guarantees it is set). */
export function authOf(req: FastifyRequest): AuthContext {
  if (!req.auth) throw unauthorized();
  return req.auth;
}
