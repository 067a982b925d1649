import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasRole } from '../auth/plugin.js';
import { type TokenRecord, type TokenStore, teamOf } from '../auth/tokens.js';

/** The console's cookie: the token itself, HttpOnly, SameSite=Strict, sent to `/ops` paths only. */
export const OPS_COOKIE = 'rw_ops';
/** A console login lasts a working day; the token's revocation ends it at once. */
export const OPS_COOKIE_MAX_AGE_SECONDS = 8 * 3600;

/** The value of one cookie of the request, or undefined. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** `Set-Cookie` for a login (or, with `token` undefined, for a logout). */
export function opsCookie(req: FastifyRequest, token: string | undefined): string {
  const attrs = [
    `${OPS_COOKIE}=${token === undefined ? '' : encodeURIComponent(token)}`,
    'Path=/ops',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${token === undefined ? 0 : OPS_COOKIE_MAX_AGE_SECONDS}`,
  ];
  // Behind TLS (or a proxy Fastify trusts) the cookie must not leak over plain HTTP.
  if (req.protocol === 'https') attrs.push('Secure');
  return attrs.join('; ');
}

function bearer(req: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/**
 * True when a state-changing request comes from a page of this origin. Browsers send
 * `Sec-Fetch-Site` on every request (Chrome 76+, Firefox 90+, Safari 16.4+) and `Origin` on every
 * non-GET one; a request with neither is refused, so API clients posting here must send `Origin`.
 */
export function isSameOrigin(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return false;
  return origin === `${req.protocol}://${req.host}`;
}

/**
 * bull-board's write routes an admin may use from the console: retry, clean and promote (one job,
 * or all of a state). Everything else that writes — `add` (it would let anyone queue a delivery),
 * obliterate, empty, edit data, pause, schedulers, rate limits — is refused to every role.
 */
const ALLOWED_WRITES = [
  /^\/ops\/queues\/api\/queues\/[^/]+\/retry\/[^/]+$/,
  /^\/ops\/queues\/api\/queues\/[^/]+\/clean\/[^/]+$/,
  /^\/ops\/queues\/api\/queues\/[^/]+\/promote$/,
  /^\/ops\/queues\/api\/queues\/[^/]+\/[^/]+\/(retry|clean|promote)$/,
];

/** The board's job-adding route, refused whatever the role. */
const ADD_ROUTE = '/ops/queues/api/queues/:queueName/add';

export type OpsAuthResult =
  | { ok: true; record: TokenRecord }
  | { ok: false; status: 401 | 403; code: string; message: string; loginRedirect?: boolean };

/** The token of a console request: the bearer header (API clients) or the console cookie (browsers). */
export function opsToken(req: FastifyRequest): string | undefined {
  return bearer(req) ?? readCookie(req, OPS_COOKIE);
}

/**
 * Decides one console request: who calls (bearer or cookie), whether the role may read the
 * console (ops, admin), and for every non-GET request whether it is an allowed write, by an
 * admin, from this origin.
 */
export async function authorizeOps(req: FastifyRequest, tokens: TokenStore): Promise<OpsAuthResult> {
  const token = opsToken(req);
  const record = token ? await tokens.verify(token) : undefined;
  const isRead = req.method === 'GET' || req.method === 'HEAD';
  if (!record) {
    return {
      ok: false,
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'log in at /ops/login, or send Authorization: Bearer <token>',
      loginRedirect: isRead && (req.headers.accept ?? '').includes('text/html'),
    };
  }
  if (!hasRole(record.role, ['ops'])) {
    return { ok: false, status: 403, code: 'FORBIDDEN', message: `role "${record.role}" may not use the ops console` };
  }
  if (isRead) return { ok: true, record };
  if (req.routeOptions.url === ADD_ROUTE) {
    return { ok: false, status: 403, code: 'FORBIDDEN', message: 'adding jobs from the console is disabled' };
  }
  const path = req.url.split('?')[0] ?? '';
  if (!ALLOWED_WRITES.some((re) => re.test(path))) {
    return { ok: false, status: 403, code: 'FORBIDDEN', message: 'the console allows only retry, clean and promote' };
  }
  if (record.role !== 'admin') {
    return { ok: false, status: 403, code: 'FORBIDDEN', message: `role "${record.role}" may only read the console` };
  }
  if (!isSameOrigin(req)) {
    return {
      ok: false,
      status: 403,
      code: 'CROSS_SITE',
      message: 'console writes must come from a page of this origin',
    };
  }
  return { ok: true, record };
}

/** Sets `req.auth` as the shared auth hook would. */
export function setAuth(req: FastifyRequest, record: TokenRecord): void {
  const team = teamOf(record.role);
  req.auth = { tokenId: record.id, role: record.role, tokenHash: record.hash, ...(team ? { team } : {}) };
}

/** Answers a refused console request: the login page for a browser, the API error body otherwise. */
export function refuse(reply: FastifyReply, result: Extract<OpsAuthResult, { ok: false }>): FastifyReply {
  if (result.loginRedirect) return reply.redirect('/ops/login', 302);
  return reply.code(result.status).send({ error: result.code, message: result.message });
}
