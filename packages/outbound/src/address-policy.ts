import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Decides which literal IP addresses an outbound connection may reach. */
export interface AddressPolicy {
  /** True if connecting to this literal IP is allowed. */
  isAllowed(ip: string): boolean;
  /** Why, for error messages and logs: "127.0.0.1 is a loopback address". */
  describe(ip: string): string;
}

type Range = readonly [cidr: string, label: string];

/**
 * Every IPv4 range that is not the public internet (IANA special-purpose registry, RFC 6890 and
 * successors). Order matters only for the label: the first match names the reason.
 */
const BLOCKED_V4: readonly Range[] = [
  ['0.0.0.0/8', 'a "this network" address (0.0.0.0/8; Linux connects 0.0.0.0 to localhost)'],
  ['10.0.0.0/8', 'a private address (10.0.0.0/8)'],
  ['100.64.0.0/10', 'a carrier-grade NAT address (100.64.0.0/10)'],
  ['127.0.0.0/8', 'a loopback address'],
  ['169.254.0.0/16', 'a link-local address (169.254.0.0/16, incl. cloud metadata 169.254.169.254)'],
  ['172.16.0.0/12', 'a private address (172.16.0.0/12)'],
  ['192.0.0.0/24', 'an IETF protocol assignment address (192.0.0.0/24)'],
  ['192.0.2.0/24', 'a documentation address (192.0.2.0/24)'],
  ['192.31.196.0/24', 'an AS112 address (192.31.196.0/24)'],
  ['192.52.193.0/24', 'an AMT address (192.52.193.0/24)'],
  ['192.88.99.0/24', 'a deprecated 6to4 relay address (192.88.99.0/24)'],
  ['192.168.0.0/16', 'a private address (192.168.0.0/16)'],
  ['192.175.48.0/24', 'an AS112 address (192.175.48.0/24)'],
  ['198.18.0.0/15', 'a benchmarking address (198.18.0.0/15)'],
  ['198.51.100.0/24', 'a documentation address (198.51.100.0/24)'],
  ['203.0.113.0/24', 'a documentation address (203.0.113.0/24)'],
  ['224.0.0.0/4', 'a multicast address (224.0.0.0/4)'],
  ['255.255.255.255/32', 'the broadcast address'],
  ['240.0.0.0/4', 'a reserved address (240.0.0.0/4)'],
];

/**
 * IPv6 ranges that are blocked outright. Mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4
 * (2002::/16) addresses are not here: they are judged by the IPv4 address they carry.
 */
const BLOCKED_V6: readonly Range[] = [
  ['::/128', 'the unspecified address'],
  ['::1/128', 'a loopback address'],
  ['64:ff9b:1::/48', 'a local-use NAT64 address (64:ff9b:1::/48)'],
  ['100::/64', 'a discard-only address (100::/64)'],
  ['2001::/32', 'a Teredo address (2001::/32), which tunnels to an arbitrary IPv4 host'],
  ['2001:2::/48', 'a benchmarking address (2001:2::/48)'],
  ['2001:db8::/32', 'a documentation address (2001:db8::/32)'],
  ['2001::/23', 'an IETF protocol assignment address (2001::/23)'],
  ['3fff::/20', 'a documentation address (3fff::/20)'],
  ['5f00::/16', 'an SRv6 SID address (5f00::/16)'],
  ['fc00::/7', 'a unique local address (fc00::/7)'],
  ['fe80::/10', 'a link-local address (fe80::/10)'],
  ['fec0::/10', 'a deprecated site-local address (fec0::/10)'],
  ['ff00::/8', 'a multicast address (ff00::/8)'],
];

type Net = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseRanges(ranges: readonly Range[]): Array<{ net: Net; label: string }> {
  return ranges.map(([cidr, label]) => ({ net: ipaddr.parseCIDR(cidr), label }));
}

const V4_RANGES = parseRanges(BLOCKED_V4);
const V6_RANGES = parseRanges(BLOCKED_V6);
const V6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const V6_NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
const V6_6TO4 = ipaddr.parseCIDR('2002::/16');

/** The verdict on one address; `reason` is empty for public addresses. */
interface Verdict {
  blocked: boolean;
  reason: string;
}

const PUBLIC: Verdict = { blocked: false, reason: 'a public address' };

function judgeV4(addr: ipaddr.IPv4): Verdict {
  for (const range of V4_RANGES) {
    if (addr.match(range.net as [ipaddr.IPv4, number])) return { blocked: true, reason: range.label };
  }
  return PUBLIC;
}

function embeddedV4(bytes: number[], offset: number): ipaddr.IPv4 {
  return new ipaddr.IPv4(bytes.slice(offset, offset + 4));
}

function judgeV6(addr: ipaddr.IPv6): Verdict {
  // Transition formats carry an IPv4 address that is what really gets reached; judge that one.
  const bytes = addr.toByteArray();
  if (addr.match(V6_NAT64 as [ipaddr.IPv6, number])) {
    const v4 = embeddedV4(bytes, 12);
    const inner = judgeV4(v4);
    return inner.blocked ? { blocked: true, reason: `a NAT64 address of ${v4}, ${inner.reason}` } : PUBLIC;
  }
  if (addr.match(V6_6TO4 as [ipaddr.IPv6, number])) {
    const v4 = embeddedV4(bytes, 2);
    const inner = judgeV4(v4);
    return inner.blocked ? { blocked: true, reason: `a 6to4 address of ${v4}, ${inner.reason}` } : PUBLIC;
  }
  for (const range of V6_RANGES) {
    if (addr.match(range.net as [ipaddr.IPv6, number])) return { blocked: true, reason: range.label };
  }
  // Only 2000::/3 is allocated as global unicast; everything else is reserved or special.
  if (!addr.match(V6_GLOBAL_UNICAST as [ipaddr.IPv6, number])) {
    return { blocked: true, reason: 'a reserved address (outside global unicast 2000::/3)' };
  }
  return PUBLIC;
}

/**
 * Parses a literal without trusting ipaddr.js with IPv6 spellings that embed dotted IPv4:
 * ipaddr.js 2.5 reads `::127.0.0.1` as `::ffff:127.0.0.1`. The WHATWG URL host parser (the same
 * one that reads our request URLs) rewrites any valid IPv6 literal to plain hex groups first.
 */
function parseAddress(bare: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const noZone = bare.split('%')[0] ?? bare;
  if (isIP(noZone) === 4) return ipaddr.IPv4.parse(noZone);
  return ipaddr.IPv6.parse(new URL(`http://[${noZone}]/`).hostname.slice(1, -1));
}

/**
 * Parses a literal address the way the OS would connect to it. Only canonical spellings count:
 * `net.isIP` refuses `0177.0.0.1` or `127.1`, and such a string is then refused as "not an IP"
 * rather than guessed at (fail closed). A zone id (`fe80::1%eth0`) is dropped before judging.
 */
function parseLiteral(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIP(bare) === 0) return undefined;
  const addr = parseAddress(bare);
  // An IPv4-mapped IPv6 address is a plain IPv4 connection on a dual-stack socket.
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

function parseCidr(entry: string): Net {
  const trimmed = entry.trim();
  const slash = trimmed.indexOf('/');
  const ipPart = slash === -1 ? trimmed : trimmed.slice(0, slash);
  if (isIP(ipPart) === 0) throw new Error('not an IP address');
  const addr = parseAddress(ipPart);
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (slash === -1) return [addr, max];
  const bitsText = trimmed.slice(slash + 1);
  const bits = Number(bitsText);
  if (!/^\d{1,3}$/.test(bitsText) || bits > max) throw new Error('bad prefix length');
  return [addr, bits];
}

function matchesNet(addr: ipaddr.IPv4 | ipaddr.IPv6, net: Net): boolean {
  let candidate = addr;
  let [range, bits] = net;
  // Let "::ffff:127.0.0.0/104" and "127.0.0.0/8" mean the same thing.
  if (range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    range = (range as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  if (candidate.kind() !== range.kind()) {
    if (candidate.kind() === 'ipv4' && range.kind() === 'ipv6') {
      candidate = (candidate as ipaddr.IPv4).toIPv4MappedAddress();
    } else {
      return false;
    }
  }
  return candidate.match([range, bits] as never);
}

/**
 * Splits and validates an allow-list such as the value of `REGWATCH_ALLOW_NETS`:
 * `"127.0.0.0/8, ::1/128"` → `["127.0.0.0/8", "::1/128"]`. Commas and/or whitespace separate
 * entries; a bare address means just that host (`/32` or `/128`). Empty or unset → `[]`.
 * @throws Error naming the first entry that is not a CIDR.
 */
export function parseAllowNets(value: string | undefined): string[] {
  if (value === undefined) return [];
  const entries = value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return entries.map((entry) => {
    let net: Net;
    try {
      net = parseCidr(entry);
    } catch {
      throw new Error(`allow-list entry "${entry}" is not a CIDR like 127.0.0.0/8 or ::1/128`);
    }
    return entry.includes('/') ? entry : `${net[0].toString()}/${net[1]}`;
  });
}

/** Addresses a policy remembers its verdict for. */
const MAX_REMEMBERED_VERDICTS = 1024;

/**
 * The SSRF guard's rule: public addresses are allowed; loopback, private, link-local, CGNAT,
 * multicast, reserved, documentation and benchmarking ranges are refused, unless an entry of
 * `allowNets` opens them (tests and local development set e.g. `127.0.0.2/32`).
 * Create one policy at start-up and reuse it: `request()` keeps one keep-alive pool per policy.
 * @param allowNets CIDRs (or bare addresses) to allow despite being non-public.
 * @throws Error naming a bad CIDR.
 */
export function createAddressPolicy(allowNets: readonly string[] = []): AddressPolicy {
  const allowed = allowNets.map((entry) => {
    try {
      return { entry, net: parseCidr(entry) };
    } catch {
      throw new Error(`allow-list entry "${entry}" is not a CIDR like 127.0.0.0/8 or ::1/128`);
    }
  });

  function judge(ip: string): Verdict & { allowedBy?: string } {
    const addr = parseLiteral(ip);
    if (addr === undefined) return { blocked: true, reason: 'not a literal IP address' };
    const verdict = addr.kind() === 'ipv4' ? judgeV4(addr as ipaddr.IPv4) : judgeV6(addr as ipaddr.IPv6);
    if (!verdict.blocked) return verdict;
    // Also try the original (unmapped) spelling, so "::ffff:7f00:2/128" in the list works too.
    const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
    const original = parseAddress(bare);
    const hit = allowed.find((a) => matchesNet(addr, a.net) || matchesNet(original, a.net));
    return hit ? { blocked: false, reason: verdict.reason, allowedBy: hit.entry } : verdict;
  }

  // A verdict depends only on the address and the fixed allow-list; busy services ask about the same
  // few addresses (webhook endpoints, feed hosts) on every request, and parsing one costs more
  // than the lookup. Bounded: cleared when full.
  const verdicts = new Map<string, boolean>();
  return {
    isAllowed: (ip) => {
      let ok = verdicts.get(ip);
      if (ok === undefined) {
        ok = !judge(ip).blocked;
        if (verdicts.size >= MAX_REMEMBERED_VERDICTS) verdicts.clear();
        verdicts.set(ip, ok);
      }
      return ok;
    },
    describe: (ip) => {
      const v = judge(ip);
      return v.allowedBy ? `${ip} is ${v.reason}, allowed by ${v.allowedBy}` : `${ip} is ${v.reason}`;
    },
  };
}
