import type { IncomingHttpHeaders } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AddressPolicy } from './address-policy.js';
import {
  createOutboundError,
  isOutboundError,
  type OutboundPermanentError,
  type OutboundRetryableError,
} from './errors.js';
import {
  blockedAddressError,
  createGuardedLookup,
  GUARD_OPTION,
  getGuardedAgents,
  type SocketGuard,
} from './guarded-agent.js';
import { parseContentEncoding, readBody } from './read-body.js';

/** What regwatch sends as `User-Agent` unless told otherwise; callers set the header themselves. */
export const DEFAULT_USER_AGENT = 'regwatch/0.1 (+https://github.com/regwatch/regwatch)';

export interface OutboundRequest {
  url: string;
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Total deadline for the whole exchange, redirects and body included. Default 15 000 ms. */
  timeoutMs?: number;
  /** Deadline for DNS + TCP (+ TLS) of each new connection. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** Cap on the body, checked while streaming and again after decompression. Default 5 MiB. */
  maxBytes?: number;
  /** Default 5; 0 returns a 3xx response as it is. */
  maxRedirects?: number;
  /** Undo gzip, deflate and br (and ask for them). Default true. */
  decompress?: boolean;
  policy: AddressPolicy;
  signal?: AbortSignal;
  /** Test seam; defaults to `dns.lookup` (all addresses). */
  lookup?: LookupFunction;
}

export interface OutboundResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". When the body was decompressed,
   * `content-encoding` and `content-length` are removed, since they no longer describe it. */
  headers: Record<string, string>;
  body: Buffer;
  /** Final URL after redirects. */
  url: string;
  redirects: Array<{ from: string; to: string; status: number }>;
  remoteAddress: string;
  elapsedMs: number;
}

const DEFAULTS = {
  timeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  maxBytes: 5 * 1024 * 1024,
  maxRedirects: 5,
} as const;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that carry credentials and must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** Errors a reused keep-alive socket gives when the server closed it just as we wrote to it. */
const STALE_SOCKET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

const DNS_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
  'ENODATA',
  'ESERVFAIL',
  'ETIMEOUT',
]);

type AnyOutboundError = OutboundPermanentError | OutboundRetryableError;

/**
 * The one deadline of an exchange: aborted, with the error as `reason`, when the total time passes
 * or the caller aborts. Only one hop is in flight at a time, so it holds one listener. A plain
 * object, not an AbortController: creating a controller and its signal, and adding and removing
 * an event listener on it, cost about a tenth of a kept-alive request's CPU here.
 */
class Deadline {
  aborted = false;
  reason: unknown;
  private listener: (() => void) | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }

  /** Calls `listener` on abort (replacing the previous hop's). */
  onAbort(listener: () => void): void {
    this.listener = listener;
  }

  off(listener: () => void): void {
    if (this.listener === listener) this.listener = undefined;
  }
}

function parseHttpUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (err) {
    throw createOutboundError('OUTBOUND_BAD_URL', `${what} is not a valid URL: ${JSON.stringify(value)}`, {
      cause: err,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw createOutboundError('OUTBOUND_BAD_URL', `${what} must be http or https, got ${url.protocol}`);
  }
  if (url.hostname === '') throw createOutboundError('OUTBOUND_BAD_URL', `${what} has no host`);
  return url;
}

/** What a hop needs from its URL, read once per URL instead of through the URL's getters on every send. */
interface Target {
  url: URL;
  /** The hostname without an IPv6 literal's brackets. */
  host: string;
  secure: boolean;
  port: number;
  path: string;
  /** `user:password` (decoded) when the URL carries them. */
  auth: string | undefined;
}

function targetOf(url: URL): Target {
  const secure = url.protocol === 'https:';
  return {
    url,
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    secure,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    auth: url.username === '' ? undefined : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  };
}

/**
 * Targets by URL as given: a webhook's URL is parsed once, not on every send (parsing and reading it
 * back was a few per cent of a kept-alive request's CPU). Bounded: cleared at 1,024 URLs. The URL
 * objects are only read, never changed, so requests may share them.
 */
const targets = new Map<string, Target>();
const MAX_TARGETS = 1024;

function targetFor(value: string): Target {
  let target = targets.get(value);
  if (target === undefined) {
    target = targetOf(parseHttpUrl(value, 'url'));
    if (targets.size >= MAX_TARGETS) targets.clear();
    targets.set(value, target);
  }
  return target;
}

function positive(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  }
  return value;
}

function flattenHeaders(raw: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function toOutboundError(err: unknown, host: string): AnyOutboundError {
  if (isOutboundError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && DNS_CODES.has(code)) {
    return createOutboundError('OUTBOUND_DNS', `could not resolve ${host}: ${code}`, { cause: err });
  }
  return createOutboundError('OUTBOUND_CONNECT', `could not talk to ${host}: ${detail}`, { cause: err });
}

interface Hop {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress: string;
}

interface HopContext {
  target: Target;
  method: 'GET' | 'POST' | 'HEAD';
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  policy: AddressPolicy;
  lookup: LookupFunction | undefined;
  connectTimeoutMs: number;
  maxBytes: number;
  decompress: boolean;
  /** Aborted (with the error as reason) when the total deadline passes or the caller aborts. */
  signal: Deadline;
  /** True when this response is a redirect that will be followed, so its body is not read. */
  willFollow(status: number, headers: Record<string, string>): boolean;
}

/** The guarded lookup of each policy over the system resolver, made once rather than per request. */
const guardedLookups = new WeakMap<AddressPolicy, LookupFunction>();

function guardedLookupOf(policy: AddressPolicy, lookup: LookupFunction | undefined): LookupFunction {
  if (lookup !== undefined) return createGuardedLookup(policy, lookup);
  let guarded = guardedLookups.get(policy);
  if (guarded === undefined) {
    guarded = createGuardedLookup(policy);
    guardedLookups.set(policy, guarded);
  }
  return guarded;
}

/** One HTTP exchange, no redirects. */
function sendOnce(ctx: HopContext, isRetry = false): Promise<Hop> {
  const { host, secure, url } = ctx.target;
  // Literal IPs never reach the lookup function, so they are judged here, before any socket.
  if (isIP(host) !== 0 && !ctx.policy.isAllowed(host)) {
    return Promise.reject(blockedAddressError(host, host, ctx.policy));
  }
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);

  const agents = getGuardedAgents(ctx.policy);
  const guard: SocketGuard = { policy: ctx.policy, host, connectTimeoutMs: ctx.connectTimeoutMs };
  const options: http.RequestOptions & { [GUARD_OPTION]: SocketGuard } = {
    protocol: url.protocol,
    hostname: host,
    port: ctx.target.port,
    path: ctx.target.path,
    method: ctx.method,
    headers: ctx.headers,
    agent: secure ? agents.https : agents.http,
    lookup: guardedLookupOf(ctx.policy, ctx.lookup),
    [GUARD_OPTION]: guard,
  };
  if (ctx.target.auth !== undefined) options.auth = ctx.target.auth;

  return new Promise<Hop>((resolve, reject) => {
    let settled = false;
    let gotResponse = false;
    let stopBody: (() => void) | undefined;
    const finish = (err: unknown, hop?: Hop) => {
      if (settled) return;
      settled = true;
      ctx.signal.off(onAbort);
      if (err === undefined) {
        resolve(hop!);
        return;
      }
      stopBody?.();
      req.destroy();
      reject(err);
    };
    const onAbort = () => finish(ctx.signal.reason);

    const req = (secure ? https : http).request(options);
    ctx.signal.onAbort(onAbort);

    req.on('socket', (socket) => {
      // A kept-alive socket skips lookup and connect; judge where it is connected before writing
      // (the policy remembers its verdicts, so this is a lookup for an address it has seen).
      const ip = socket.remoteAddress;
      if (!socket.connecting && ip !== undefined && !ctx.policy.isAllowed(ip)) {
        finish(blockedAddressError(ip, host, ctx.policy));
      }
    });
    req.on('error', (err) => {
      if (settled) return;
      const code = (err as NodeJS.ErrnoException).code;
      // The keep-alive race: the server closed an idle socket as we reused it. Nothing was
      // processed, so one retry on a fresh socket is safe (webhook receivers dedupe by id anyway).
      if (!isRetry && !gotResponse && req.reusedSocket && code !== undefined && STALE_SOCKET_CODES.has(code)) {
        settled = true;
        ctx.signal.off(onAbort);
        sendOnce(ctx, true).then(resolve, reject);
        return;
      }
      finish(toOutboundError(err, host));
    });
    req.on('response', (res) => {
      gotResponse = true;
      const status = res.statusCode ?? 0;
      const headers = flattenHeaders(res.headers);
      const remoteAddress = res.socket?.remoteAddress ?? '';
      res.on('error', () => {}); // errors after settling must not crash the process
      if (ctx.willFollow(status, headers)) {
        // The body of a redirect is never needed; dropping the socket is cheaper than draining.
        res.destroy();
        finish(undefined, { status, headers, body: Buffer.alloc(0), remoteAddress });
        return;
      }
      const hasBody = ctx.method !== 'HEAD' && status !== 204 && status !== 304;
      if (!hasBody) {
        res.resume();
        res.on('end', () => finish(undefined, { status, headers, body: Buffer.alloc(0), remoteAddress }));
        return;
      }
      const declared = Number(headers['content-length']);
      if (headers['content-length'] !== undefined && Number.isFinite(declared) && declared > ctx.maxBytes) {
        res.destroy();
        finish(
          createOutboundError(
            'OUTBOUND_TOO_LARGE',
            `response from ${url.href} declares ${declared} bytes, over the ${ctx.maxBytes}-byte limit`,
          ),
        );
        return;
      }
      const codings = ctx.decompress ? parseContentEncoding(headers['content-encoding']) : [];
      if (codings === undefined) {
        res.destroy();
        finish(
          createOutboundError(
            'OUTBOUND_BAD_ENCODING',
            `response from ${url.href} uses an unsupported Content-Encoding: ${headers['content-encoding']}`,
          ),
        );
        return;
      }
      if (codings.length > 0) {
        delete headers['content-encoding'];
        delete headers['content-length'];
      }
      stopBody = readBody(res, {
        maxBytes: ctx.maxBytes,
        codings,
        url: url.href,
        onDone: (body) => finish(undefined, { status, headers, body, remoteAddress }),
        onError: (err) => finish(err),
      });
    });

    if (ctx.body !== undefined) req.end(ctx.body);
    else req.end();
  });
}

/**
 * Sends one HTTP(S) request through the SSRF guard: every address a host resolves to, every
 * redirect hop and the socket actually connected are checked against `policy`; the body is
 * capped, decompressed and bounded by a total deadline.
 *
 * @throws OutboundError — `OUTBOUND_BAD_URL`, `OUTBOUND_BLOCKED_ADDRESS`, `OUTBOUND_TOO_LARGE`,
 * `OUTBOUND_TOO_MANY_REDIRECTS`, `OUTBOUND_BAD_ENCODING` (permanent); `OUTBOUND_TIMEOUT`,
 * `OUTBOUND_CONNECT`, `OUTBOUND_DNS` (retryable). HTTP error statuses are not errors here.
 */
export async function request(req: OutboundRequest): Promise<OutboundResponse> {
  const started = performance.now();
  const timeoutMs = positive(req.timeoutMs, DEFAULTS.timeoutMs, 'timeoutMs');
  const connectTimeoutMs = positive(req.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 'connectTimeoutMs');
  const maxBytes = positive(req.maxBytes, DEFAULTS.maxBytes, 'maxBytes');
  const maxRedirects = positive(req.maxRedirects, DEFAULTS.maxRedirects, 'maxRedirects', true);
  const decompress = req.decompress ?? true;

  let target = targetFor(req.url);
  let url = target.url;
  let method = req.method ?? 'GET';
  let body = req.body;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;
  if (decompress && headers['accept-encoding'] === undefined) headers['accept-encoding'] = 'gzip, deflate, br';

  // One deadline for the whole exchange: a slow-drip server cannot stretch it hop by hop.
  const controller = new Deadline();
  const timer = setTimeout(() => {
    controller.abort(createOutboundError('OUTBOUND_TIMEOUT', `request to ${req.url} timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onCallerAbort = () =>
    controller.abort(
      createOutboundError('OUTBOUND_TIMEOUT', `request to ${req.url} was aborted by the caller`, {
        cause: req.signal?.reason,
      }),
    );
  if (req.signal?.aborted) onCallerAbort();
  req.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const redirects: OutboundResponse['redirects'] = [];
  const willFollow = (status: number, h: Record<string, string>) =>
    maxRedirects > 0 && REDIRECT_STATUSES.has(status) && h['location'] !== undefined;
  try {
    for (;;) {
      const hop = await sendOnce({
        target,
        method,
        headers,
        body,
        policy: req.policy,
        lookup: req.lookup,
        connectTimeoutMs,
        maxBytes,
        decompress,
        signal: controller,
        willFollow,
      });
      if (!willFollow(hop.status, hop.headers)) {
        return {
          status: hop.status,
          headers: hop.headers,
          body: hop.body,
          url: url.href,
          redirects,
          remoteAddress: hop.remoteAddress,
          elapsedMs: Math.round(performance.now() - started),
        };
      }
      if (redirects.length >= maxRedirects) {
        throw createOutboundError(
          'OUTBOUND_TOO_MANY_REDIRECTS',
          `more than ${maxRedirects} redirects starting at ${req.url} (last: ${url.href})`,
        );
      }
      const next = parseHttpUrl(new URL(hop.headers['location']!, url).href, `redirect from ${url.href}`);
      redirects.push({ from: url.href, to: next.href, status: hop.status });
      // RFC 9110 §15.4: 303 always becomes GET; browsers (and the fetch spec) do the same for a
      // POST answered by 301/302. 307/308 repeat the request as it was.
      if (hop.status === 303 || ((hop.status === 301 || hop.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      if (next.origin !== url.origin) {
        for (const name of CREDENTIAL_HEADERS) delete headers[name];
      }
      url = next;
      target = targetOf(next);
    }
  } catch (err) {
    throw toOutboundError(err, url.hostname);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCallerAbort);
  }
}
