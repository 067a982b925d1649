import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bullPrefix, createRedis } from '@regwatch/queue';
import { CatalogStore } from '@regwatch/store';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../io.js';
import { feeds } from './feeds.js';
import { type PresetCheck, sources } from './sources.js';

const prefix = `test-${randomUUID().slice(0, 8)}`;
const redis = createRedis(process.env.REDIS_URL, 'worker');

/** A list page laid out like MOFCOM's (ul.txtList_01 > li > a + span), GBK-encoded. Written for this test. */
const MOFCOM_LIKE = `<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>公告</title><script>document.write('never run');</script></head><body>
<ul class="txtList_01">
  <li><a href="/article/zcfg/gnzcfg/zcfggzqd/202611/2001.html" title="关于对某类物项实施出口管制的公告">关于对某类物项实施出口管制的公告</a><span>2026-11-20</span></li>
  <li><a href="/article/zcfg/gnzcfg/zcfggzqd/202610/1990.html" title="关于调整两用物项出口管制清单的公告">关于调整两用物项出口管制清单的公告</a><span>2026-10-02</span></li>
</ul>
<div class="listline"></div></body></html>`;

/** A documents.json answer in the Federal Register API's shape. Written for this test. */
const FR_LIKE = JSON.stringify({
  count: 1,
  total_pages: 1,
  results: [
    {
      document_number: '2026-30001',
      title: 'Export Administration Regulations: Additions to the Entity List',
      type: 'Rule',
      abstract: 'BIS adds entities to the Entity List (15 CFR part 744, Supplement No. 4).',
      agencies: [{ name: 'Industry and Security Bureau', slug: 'industry-and-security-bureau' }],
      cfr_references: [{ title: 15, part: 744 }],
      publication_date: '2026-11-24',
      effective_on: '2026-11-24',
      comments_close_on: null,
      html_url: 'https://www.federalregister.gov/documents/2026/11/24/2026-30001/additions-to-the-entity-list',
      pdf_url: 'https://www.govinfo.gov/content/pkg/FR-2026-11-24/pdf/2026-30001.pdf',
      citation: '91 FR 60001',
    },
  ],
});

/** OFAC-like: Drupal views rows, a link to /recent-actions/<date>, a "MM/DD/YYYY - category" line. */
const OFAC_LIKE = `<html><body><div class="view-content">
  <div class="views-row"><a href="/recent-actions/20261121">Counter Terrorism Designations; Iran-related Designation Removal</a>
    <div class="margin-top-1">11/21/2026 - Counter Terrorism Designations</div></div>
  <div class="views-row"><a href="/recent-actions/20261118">Russia-related Designations</a>
    <div class="margin-top-1">11/18/2026 - Russia-related Designations</div></div>
</div></body></html>`;

/** BIS-like: rows holding a /press-release/ link and a time element. */
const BIS_LIKE = `<html><body><nav><a href="/about">About</a></nav>
  <div class="views-row"><time datetime="2026-11-19T17:00:00Z">November 19, 2026</time>
    <a href="/press-release/commerce-adds-entities-entity-list">Commerce Adds Entities to the Entity List</a></div>
  <div class="views-row"><time datetime="2026-11-12T15:30:00Z">November 12, 2026</time>
    <a href="/press-release/bis-imposes-penalty">BIS Imposes Penalty for Unlicensed Exports</a></div>
</body></html>`;

let server: Server;
let origin: string;
/** A second mirror where every HTML preset's page is healthy. */
let healthy: Server;
let healthyOrigin: string;
const requested: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requested.push(req.url ?? '');
    const path = (req.url ?? '').split('?')[0];
    if (path === '/article/zcfg/gnzcfg/zcfggzqd/')
      res.writeHead(200, { 'content-type': 'text/html; charset=GBK' }).end(iconv.encode(MOFCOM_LIKE, 'gbk'));
    else if (path === '/api/v1/documents.json') res.writeHead(200, { 'content-type': 'application/json' }).end(FR_LIKE);
    // GACC-like: a script challenge instead of the list, as plain clients get it.
    else if (path === '/customs/302249/2480148/index.html')
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><body><script>location.reload()</script>please enable JavaScript</body></html>');
    else if (path === '/recent-actions') res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  healthy = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const html = (body: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    if (path === '/article/xwfb/')
      res.writeHead(200, { 'content-type': 'text/html' }).end(iconv.encode(MOFCOM_LIKE, 'gbk'));
    else if (path === '/recent-actions') html(OFAC_LIKE);
    else if (path === '/news-updates') html(BIS_LIKE);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => healthy.listen(0, '127.0.0.1', r));
  healthyOrigin = `http://127.0.0.1:${(healthy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => healthy.close(() => r()));
  const keys = await redis.keys(`${bullPrefix(prefix)}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function run(command: (args: string[], io: CommandIo) => Promise<number>, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readStdin: async () => '',
    stdinLines: async function* () {},
    env: { REDIS_URL: process.env.REDIS_URL ?? '', REGWATCH_PREFIX: prefix, REGWATCH_ALLOW_NETS: '127.0.0.0/8' },
  };
  return command(args, io).then((code) => ({ code, out: out.join(''), err: err.join('') }));
}

describe('regwatch sources check (loopback copies of the sites)', () => {
  it('reports items and the newest date for presets that work, and exits 0', async () => {
    const { code, out, err } = await run(sources, ['check', '--rebase', origin, 'mofcom-export-control', 'fr-bis']);
    expect(err).toBe('');
    expect(code, out).toBe(0);
    expect(out).toMatch(/^PRESET\s+TYPE\s+HTTP\s+ITEMS\s+NEWEST\s+VERDICT/);
    expect(out).toMatch(/mofcom-export-control\s+html\s+200\s+2\s+2026-11-20\s+ok/);
    expect(out).toMatch(/fr-bis\s+federalregister\s+200\s+1\s+2026-11-24\s+ok/);
    expect(out).toContain('all 2 presets yield items');
    // The Federal Register preset's own query went to the mirror, agencies and all.
    expect(requested.some((u) => u.includes('conditions%5Bagencies%5D%5B%5D=industry-and-security-bureau'))).toBe(true);
  });

  it('says which presets yield nothing or fail, and exits 1', async () => {
    const { code, out } = await run(sources, [
      'check',
      '--json',
      '--rebase',
      origin,
      'mofcom-export-control',
      'gacc-announcements',
      'ofac-recent-actions',
    ]);
    expect(code).toBe(1);
    const results = JSON.parse(out) as PresetCheck[];
    expect(results.map((r) => [r.id, r.verdict])).toEqual([
      ['mofcom-export-control', 'ok'],
      ['gacc-announcements', 'zero items'],
      ['ofac-recent-actions', 'error'],
    ]);
    expect(results[0]).toMatchObject({ httpStatus: 200, items: 2 });
    expect(results[1]).toMatchObject({ httpStatus: 200, items: 0 });
    expect(results[2]!.error).toMatch(/503/);
  });

  it("reads the other HTML presets' selectors and date formats from pages laid out like the sites", async () => {
    const { code, out } = await run(sources, [
      'check',
      '--json',
      '--rebase',
      healthyOrigin,
      'mofcom-press',
      'ofac-recent-actions',
      'bis-press',
    ]);
    const results = JSON.parse(out) as PresetCheck[];
    expect(code, out).toBe(0);
    expect(results.map((r) => [r.id, r.items, r.newest?.slice(0, 10), r.verdict])).toEqual([
      // No charset in the header: the page's meta says GBK.
      ['mofcom-press', 2, '2026-11-20', 'ok'],
      // "11/21/2026 - Counter Terrorism Designations" read with dateFormat MM/DD/YYYY.
      ['ofac-recent-actions', 2, '2026-11-21', 'ok'],
      ['bis-press', 2, '2026-11-19', 'ok'],
    ]);
  });

  it('refuses loopback without REGWATCH_ALLOW_NETS (the SSRF guard applies)', async () => {
    const out: string[] = [];
    const io: CommandIo = {
      stdout: (t) => out.push(t),
      stderr: () => {},
      readStdin: async () => '',
      stdinLines: async function* () {},
      env: {},
    };
    const before = requested.length;
    expect(await sources(['check', '--json', '--rebase', origin, 'fr-bis'], io)).toBe(1);
    const [result] = JSON.parse(out.join('')) as PresetCheck[];
    expect(result).toMatchObject({ id: 'fr-bis', verdict: 'error' });
    expect(requested.length).toBe(before);
  });
});

describe('regwatch feeds add --preset (real Redis, the catalog store the API uses)', () => {
  it('adds the preset feed with overrides and names a bad preset id', async () => {
    const added = await run(feeds, ['add', '--preset', 'fr-ustr', '--id', 'ustr-301', '--interval', '600']);
    expect(added.code, added.err).toBe(0);
    expect(added.out).toContain('added feed ustr-301 from preset fr-ustr (unverified');
    const stored = await new CatalogStore(redis, prefix).feed('ustr-301');
    expect(stored).toMatchObject({
      id: 'ustr-301',
      type: 'federalregister',
      agencies: ['trade-representative-office-of-united-states'],
      intervalSeconds: 600,
      jurisdiction: 'US',
    });
    const html = await run(feeds, ['add', '--preset', 'mofcom-export-control']);
    expect(html.code, html.err).toBe(0);
    expect(await new CatalogStore(redis, prefix).feed('mofcom-export-control')).toMatchObject({
      type: 'html',
      selectors: { item: '.txtList_01 li' },
    });
    const list = await run(feeds, ['list']);
    expect(list.out).toMatch(/ustr-301\s+api\s+federalregister\s+600s/);

    const unknown = await run(feeds, ['add', '--preset', 'ofac-recent-action']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('did you mean "ofac-recent-actions"');
    const badInterval = await run(feeds, ['add', '--preset', 'uk-ecju', '--interval', '5']);
    expect(badInterval.code).toBe(1);
    expect(badInterval.err).toMatch(/intervalSeconds:/);
    expect((await run(feeds, ['add', '--preset', 'uk-ecju', 'extra-id'])).err).toContain('--preset takes no id');
  });
});
