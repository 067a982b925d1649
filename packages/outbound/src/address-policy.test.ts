import { describe, expect, it } from 'vitest';
import { createAddressPolicy, parseAllowNets } from './address-policy.js';

// Pure tests: literal addresses only, no traffic.
const strict = createAddressPolicy();

describe('createAddressPolicy() without an allow-list', () => {
  const blocked: Array<[ip: string, reason: RegExp]> = [
    ['0.0.0.0', /this network/],
    ['0.255.1.2', /this network/],
    ['10.0.0.1', /private.*10\.0\.0\.0\/8/],
    ['10.255.255.255', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.254', /carrier-grade NAT/],
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['169.254.169.254', /link-local.*metadata/],
    ['169.254.0.1', /link-local/],
    ['172.16.0.1', /private.*172\.16\.0\.0\/12/],
    ['172.31.255.255', /private/],
    ['192.0.0.8', /IETF protocol/],
    ['192.0.2.10', /documentation/],
    ['192.88.99.1', /6to4 relay/],
    ['192.168.1.1', /private.*192\.168/],
    ['198.18.0.1', /benchmarking/],
    ['198.19.255.255', /benchmarking/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.255', /broadcast/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:10.1.2.3', /private/],
    ['::ffff:169.254.169.254', /link-local/],
    ['64:ff9b::7f00:1', /NAT64 address of 127\.0\.0\.1, a loopback/],
    ['64:ff9b::a9fe:a9fe', /NAT64 address of 169\.254\.169\.254/],
    ['64:ff9b:1::1', /local-use NAT64/],
    ['2002:7f00:1::', /6to4 address of 127\.0\.0\.1/],
    ['2002:c0a8:101::1', /6to4 address of 192\.168\.1\.1/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
    ['2001:db8::1', /documentation/],
    ['2001:2::1', /benchmarking/],
    ['2001:10::1', /IETF protocol/],
    ['3fff::1', /documentation/],
    ['100::1', /discard-only/],
    ['fc00::1', /unique local/],
    ['fd12:3456:789a::1', /unique local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['febf::1', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['::127.0.0.1', /reserved/],
    ['4000::1', /reserved/],
  ];
  it.each(blocked)('refuses %s', (ip, reason) => {
    expect(strict.isAllowed(ip)).toBe(false);
    expect(strict.describe(ip)).toMatch(reason);
    expect(strict.describe(ip).startsWith(`${ip} is `)).toBe(true);
  });

  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '100.63.255.255', // just below CGNAT
    '100.128.0.0', // just above CGNAT
    '172.15.255.255', // just below 172.16/12
    '172.32.0.0', // just above
    '192.169.0.1',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8', // mapped public
    '64:ff9b::808:808', // NAT64 of 8.8.8.8
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ];
  it.each(allowed)('allows public %s', (ip) => {
    expect(strict.isAllowed(ip)).toBe(true);
    expect(strict.describe(ip)).toBe(`${ip} is a public address`);
  });

  it.each(['localhost', 'example.com', '0177.0.0.1', '127.1', '2130706433', '0x7f000001', '', '1.2.3.4.5'])(
    'fails closed on the non-literal %j',
    (ip) => {
      expect(strict.isAllowed(ip)).toBe(false);
      expect(strict.describe(ip)).toMatch(/not a literal IP address/);
    },
  );

  it('accepts a bracketed IPv6 literal', () => {
    expect(strict.isAllowed('[::1]')).toBe(false);
    expect(strict.isAllowed('[2606:4700:4700::1111]')).toBe(true);
  });
});

describe('createAddressPolicy() with an allow-list', () => {
  const policy = createAddressPolicy(['127.0.0.2/32', '10.20.0.0/16', 'fd00::/8']);

  it('opens exactly the listed nets', () => {
    expect(policy.isAllowed('127.0.0.2')).toBe(true);
    expect(policy.describe('127.0.0.2')).toBe('127.0.0.2 is a loopback address, allowed by 127.0.0.2/32');
    expect(policy.isAllowed('127.0.0.1')).toBe(false);
    expect(policy.isAllowed('127.0.0.3')).toBe(false);
    expect(policy.isAllowed('10.20.99.1')).toBe(true);
    expect(policy.isAllowed('10.21.0.1')).toBe(false);
    expect(policy.isAllowed('fd00::5')).toBe(true);
    expect(policy.isAllowed('fc00::5')).toBe(false);
    expect(policy.isAllowed('::1')).toBe(false);
  });

  it('applies IPv4 entries to IPv4-mapped spellings', () => {
    expect(policy.isAllowed('::ffff:127.0.0.2')).toBe(true);
    expect(policy.isAllowed('::ffff:127.0.0.1')).toBe(false);
  });

  it('does not let an IPv4 entry open NAT64 or 6to4 tunnels to that address', () => {
    expect(policy.isAllowed('64:ff9b::7f00:2')).toBe(false);
    expect(policy.isAllowed('2002:7f00:2::')).toBe(false);
  });

  it('still allows public addresses', () => {
    expect(policy.isAllowed('8.8.8.8')).toBe(true);
  });

  it('accepts bare addresses and IPv4-mapped CIDRs', () => {
    const p = createAddressPolicy(['::1', '::ffff:127.0.0.0/104']);
    expect(p.isAllowed('::1')).toBe(true);
    expect(p.isAllowed('127.9.9.9')).toBe(true);
    expect(p.isAllowed('10.0.0.1')).toBe(false);
  });

  it.each(['127.0.0.1/33', 'nonsense', '10.0.0.0/', '0177.0.0.1/8', '::1/129', '10.0.0.0/8x'])(
    'throws an error naming the bad CIDR %j',
    (bad) => {
      expect(() => createAddressPolicy(['127.0.0.0/8', bad])).toThrow(`"${bad}"`);
    },
  );
});

describe('parseAllowNets()', () => {
  it('splits on commas and whitespace', () => {
    expect(parseAllowNets('127.0.0.0/8, ::1/128')).toEqual(['127.0.0.0/8', '::1/128']);
    expect(parseAllowNets(' 127.0.0.2/32\n10.0.0.0/8 ,, ')).toEqual(['127.0.0.2/32', '10.0.0.0/8']);
  });

  it('turns a bare address into a host net', () => {
    expect(parseAllowNets('127.0.0.2,::1')).toEqual(['127.0.0.2/32', '::1/128']);
  });

  it('treats unset and empty as no exceptions', () => {
    expect(parseAllowNets(undefined)).toEqual([]);
    expect(parseAllowNets('')).toEqual([]);
    expect(parseAllowNets('  ')).toEqual([]);
  });

  it('names the bad entry', () => {
    expect(() => parseAllowNets('127.0.0.0/8, localhost')).toThrow(/"localhost" is not a CIDR/);
  });
});

describe('remembered verdicts', () => {
  it('give the same answers as a fresh policy, asked again and past the cap', () => {
    const policy = createAddressPolicy(['127.0.0.2/32', '10.1.0.0/16']);
    const addresses = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0
        ? `127.0.${(i >> 8) & 255}.${i & 255}`
        : i % 3 === 1
          ? `10.${i % 4}.0.${i & 255}`
          : `93.184.${i % 7}.${i & 255}`,
    );
    const fresh = addresses.map((a) => createAddressPolicy(['127.0.0.2/32', '10.1.0.0/16']).isAllowed(a));
    for (let round = 0; round < 2; round++) {
      expect(addresses.map((a) => policy.isAllowed(a))).toEqual(fresh);
    }
    expect(policy.isAllowed('127.0.0.2')).toBe(true);
    expect(policy.isAllowed('127.0.0.3')).toBe(false);
    expect(policy.isAllowed('10.1.2.3')).toBe(true);
    expect(policy.isAllowed('10.2.2.3')).toBe(false);
  });
});
