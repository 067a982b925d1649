import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AddressPolicy } from './address-policy.js';
import { createOutboundError, type OutboundPermanentError } from './errors.js';

/**
 * What the agent needs to guard one new socket. It travels inside the request options: Node's
 * Agent hands every request option on to `createConnection`, which is where a socket is born.
 */
export interface SocketGuard {
  policy: AddressPolicy;
  /** The URL host, for messages. */
  host: string;
  connectTimeoutMs: number;
}

/** The request-option key under which the {@link SocketGuard} rides along. */
export const GUARD_OPTION = 'regwatchGuard';

/** The error for an address the policy refuses; the message names the host, the address and why. */
export function blockedAddressError(ip: string, host: string, policy: AddressPolicy): OutboundPermanentError {
  const target = host === ip ? ip : `${ip} for ${host}`;
  return createOutboundError(
    'OUTBOUND_BLOCKED_ADDRESS',
    `refused ${target}: ${policy.describe(ip)} (set REGWATCH_ALLOW_NETS to allow)`,
  ) as OutboundPermanentError;
}

/**
 * Wraps a DNS lookup so that every address it returns is judged before Node may connect to any
 * of them. Refusing inside the lookup callback means a private address is never even dialled;
 * refusing when *any* candidate is private (rather than filtering) keeps a hostile resolver from
 * mixing a public decoy with an internal target.
 */
export function createGuardedLookup(policy: AddressPolicy, base: LookupFunction = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (err, result, family) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const list: LookupAddress[] = Array.isArray(result)
        ? result
        : [{ address: result, family: family ?? isIP(result) }];
      if (list.length === 0) {
        const empty = Object.assign(new Error(`no addresses found for ${hostname}`), { code: 'ENOTFOUND' });
        callback(empty, '', 0);
        return;
      }
      for (const candidate of list) {
        if (!policy.isAllowed(candidate.address)) {
          callback(blockedAddressError(candidate.address, hostname, policy), '', 0);
          return;
        }
      }
      if (options.all) {
        callback(null, list);
      } else {
        const first = list[0]!;
        callback(null, first.address, first.family);
      }
    });
  };
}

/**
 * Checks the address a socket really connected to (the last line against DNS rebinding and
 * anything else between lookup and connect) and enforces the connect deadline, which covers
 * DNS resolution, the TCP handshake and, for https, the TLS handshake.
 */
function guardSocket(socket: Socket, guard: SocketGuard | undefined, secure: boolean): void {
  if (guard === undefined) return;
  const timer = setTimeout(() => {
    socket.destroy(
      createOutboundError(
        'OUTBOUND_TIMEOUT',
        `connecting to ${guard.host} timed out after ${guard.connectTimeoutMs} ms`,
      ),
    );
  }, guard.connectTimeoutMs);
  const clear = () => clearTimeout(timer);
  socket.once(secure ? 'secureConnect' : 'connect', clear);
  socket.once('close', clear);
  // Prepended so it runs before anything else waiting for 'connect': TLS's handshake start and
  // the request bytes buffered while connecting must not go out to a refused address.
  socket.prependOnceListener('connect', () => {
    const ip = socket.remoteAddress;
    if (ip === undefined) {
      // The peer reset the connection before we could read its address (a receiver going down
      // does this). Nothing is sent either way; it is a failed connect, worth retrying, not a
      // refused address — calling it refused dead-lettered deliveries in the chaos suite.
      socket.destroy(
        createOutboundError('OUTBOUND_CONNECT', `connection to ${guard.host} closed before it was established`),
      );
    } else if (!guard.policy.isAllowed(ip)) {
      socket.destroy(blockedAddressError(ip, guard.host, guard.policy));
    }
  });
}

type ConnectionOptions = Parameters<http.Agent['createConnection']>[0] & { [GUARD_OPTION]?: SocketGuard };

// Idle keep-alive sockets are closed before the typical 5 s server-side keep-alive timeout, so
// a reused socket is rarely one the server is closing at that very moment.
const AGENT_OPTIONS: http.AgentOptions = {
  keepAlive: true,
  keepAliveMsecs: 1_000,
  maxSockets: 256,
  maxFreeSockets: 64,
  scheduling: 'lifo',
  timeout: 4_000,
};

class GuardedHttpAgent extends http.Agent {
  override createConnection(
    options: ConnectionOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex {
    const socket = super.createConnection(options, callback) as Socket;
    guardSocket(socket, options[GUARD_OPTION], false);
    return socket;
  }
}

class GuardedHttpsAgent extends https.Agent {
  override createConnection(
    options: ConnectionOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex {
    const socket = super.createConnection(options, callback) as Socket;
    guardSocket(socket, options[GUARD_OPTION], true);
    return socket;
  }
}

export interface GuardedAgents {
  http: http.Agent;
  https: https.Agent;
}

/**
 * One pair of keep-alive agents per policy object. Pooling per policy means a socket opened under
 * a lenient policy is never handed to a request judged by a stricter one; services create one
 * policy at start-up, so in practice this is one pool for the process.
 */
const agentsByPolicy = new WeakMap<AddressPolicy, GuardedAgents>();

export function getGuardedAgents(policy: AddressPolicy): GuardedAgents {
  let agents = agentsByPolicy.get(policy);
  if (agents === undefined) {
    agents = { http: new GuardedHttpAgent(AGENT_OPTIONS), https: new GuardedHttpsAgent(AGENT_OPTIONS) };
    agentsByPolicy.set(policy, agents);
  }
  return agents;
}
