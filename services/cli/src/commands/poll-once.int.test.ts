import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../io.js';
import { pollOnce } from './poll-once.js';

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>BIS notices</title><link>https://bis.example.gov/</link>
<item><title>Entity List additions</title><link>https://bis.example.gov/n/1?utm_source=rss</link><guid>n-1</guid>
<pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate><description>&lt;p&gt;Adds 12 entities.&lt;/p&gt;</description></item>
</channel></rss>`;

/** "出口管制公告第1号" in GBK: the page declares its charset only in <meta>. */
const GBK_TITLE = Buffer.from('b3f6bfdab9dcd6c6b9abb8e6b5da31bac5', 'hex');
const GBK_LIST = Buffer.concat([
  Buffer.from(
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"><title>list</title></head><body><ul class="list"><li><a href="./2025/1.shtml">',
  ),
  GBK_TITLE,
  Buffer.from(
    '</a><span>2025-10-09</span></li><li><a href="/2025/2.shtml">Second notice</a><span>2025-10-08</span></li></ul><script>alert(1)</script></body></html>',
  ),
]);
const FR_JSON = JSON.stringify({
  count: 1,
  results: [
    {
      document_number: '2026-01234',
      title: 'Revisions to License Exception ACA',
      type: 'Rule',
      abstract: 'This rule revises a license exception.',
      agencies: [{ name: 'Industry and Security Bureau', slug: 'industry-and-security-bureau' }],
      cfr_references: [{ title: 15, part: 740 }],
      publication_date: '2026-02-02',
      effective_on: '2026-03-01',
      html_url: 'https://www.federalregister.gov/documents/2026/02/02/2026-01234/revisions',
      pdf_url: null,
      citation: '91 FR 5000',
    },
  ],
});
const PAGE =
  '<html><body><nav>menu</nav><div id="region"><h2>Supplement</h2><ul><li>Alpha Co.</li><li>Beta Ltd.</li></ul></div></body></html>';

let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/feed.xml') res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS);
    else if (req.url === '/list.html') res.writeHead(200, { 'content-type': 'text/html' }).end(GBK_LIST);
    else if (req.url?.startsWith('/api/documents.json'))
      res.writeHead(200, { 'content-type': 'application/json' }).end(FR_JSON);
    else if (req.url === '/region.html') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (req.url === '/page.html')
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>hi</body></html>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(args: string[], env: NodeJS.ProcessEnv = { REGWATCH_ALLOW_NETS: '127.0.0.1/32' }) {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readStdin: async () => '',
    stdinLines: async function* () {},
    env,
  };
  const code = await pollOnce(args, io);
  return { code, stdout, stderr };
}

describe('regwatch poll-once (local feed server)', () => {
  it('prints {feed, items} with --json', async () => {
    const { code, stdout, stderr } = await run([`${base}/feed.xml`, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { feed: Record<string, unknown>; items: Array<Record<string, unknown>> };
    expect(out.feed).toMatchObject({ url: `${base}/feed.xml`, title: 'BIS notices', format: 'rss', httpStatus: 200 });
    expect(out.items).toHaveLength(1);
    expect(out.items[0]).toMatchObject({
      id: expect.stringMatching(/^i[0-9a-f]{24}$/),
      title: 'Entity List additions',
      url: 'https://bis.example.gov/n/1',
      summary: 'Adds 12 entities.',
      published: '2026-03-02T08:00:00.000Z',
    });
  });

  it('prints a readable list without --json', async () => {
    const { code, stdout } = await run([`${base}/feed.xml`]);
    expect(code).toBe(0);
    expect(stdout).toBe(
      'BIS notices (rss, 1 items)\n- 2026-03-02  Entity List additions\n    https://bis.example.gov/n/1\n',
    );
  });

  it.each([
    ['a refused address', '/feed.xml', {}, /^regwatch poll-once: OUTBOUND_BLOCKED_ADDRESS: refused 127\.0\.0\.1/],
    ['a missing feed', '/gone.xml', undefined, /^regwatch poll-once: FEED_NOT_FOUND: feed .* answered HTTP 404/],
    ['a web page', '/page.html', undefined, /^regwatch poll-once: FEED_PARSE: not a feed: got an HTML document\n$/],
    [
      'a bad environment',
      '/feed.xml',
      { API_PORT: 'x' },
      /^regwatch poll-once: CONFIG_INVALID: environment is invalid: - API_PORT: /,
    ],
    [
      'a bad REGWATCH_ALLOW_NETS',
      '/feed.xml',
      { REGWATCH_ALLOW_NETS: 'not-a-cidr' },
      /^regwatch poll-once: .*not-a-cidr/,
    ],
    [
      'a bad URL',
      'ftp://example.org/feed',
      undefined,
      /^regwatch poll-once: OUTBOUND_BAD_URL: url must be http or https/,
    ],
  ])('fails on %s with one line on stderr and exit 1', async (_what, target, env, line) => {
    const { code, stdout, stderr } = await run([target.startsWith('/') ? `${base}${target}` : target, '--json'], env);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(line);
    expect(stderr.endsWith('\n')).toBe(true);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('explains its usage without a URL (exit 2)', async () => {
    const { code, stderr } = await run(['--json']);
    expect(code).toBe(2);
    expect(stderr).toBe(
      "usage: regwatch poll-once <url> [--json]\n       regwatch poll-once --source '<source definition as JSON>' [--json]\n",
    );
  });
});

describe('regwatch poll-once --source (local server)', () => {
  const source = (def: Record<string, unknown>) => ['--source', JSON.stringify(def), '--json'];

  it('previews an html source: GBK by <meta>, relative links resolved, no script text', async () => {
    const { code, stdout, stderr } = await run(
      source({
        type: 'html',
        url: `${base}/list.html`,
        selectors: { item: 'ul.list li', title: 'a', link: 'a@href', date: 'span' },
      }),
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { feed: Record<string, unknown>; items: Array<Record<string, unknown>> };
    expect(out.feed).toMatchObject({ url: `${base}/list.html`, type: 'html', format: 'html', httpStatus: 200 });
    expect(out.items.map((i) => [i.title, i.url, i.published])).toEqual([
      ['出口管制公告第1号', `${base}/2025/1.shtml`, '2025-10-09T00:00:00.000Z'],
      ['Second notice', `${base}/2025/2.shtml`, '2025-10-08T00:00:00.000Z'],
    ]);
    expect(stdout).not.toContain('alert');
  });

  it('previews a federalregister source with its structured fields, and prints them readably', async () => {
    const def = { type: 'federalregister', url: `${base}/api/documents.json?conditions[agencies][]=x` };
    const { code, stdout } = await run(source(def));
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { feed: Record<string, unknown>; items: Array<Record<string, unknown>> };
    expect(out.feed).toMatchObject({ type: 'federalregister', format: 'federalregister' });
    expect(out.items[0]).toMatchObject({
      title: 'Revisions to License Exception ACA',
      summary: expect.stringMatching(
        /^Rule · Industry and Security Bureau · 15 CFR 740 · FR Doc\. 2026-01234 · 91 FR 5000 · /,
      ),
      federalRegister: { documentNumber: '2026-01234', cfrParts: ['15 CFR 740'], effectiveDate: '2026-03-01' },
    });
    const text = await run(['--source', JSON.stringify(def)]);
    expect(text.stdout).toBe(
      `Federal Register (federalregister, 1 items)\n- 2026-02-02  Revisions to License Exception ACA\n    https://www.federalregister.gov/documents/2026/02/02/2026-01234/revisions\n`,
    );
  });

  it('previews a page source as its current region text, saying there is no baseline', async () => {
    const def = { type: 'page', url: `${base}/region.html`, selector: '#region', title: 'Supplement' };
    const { code, stdout } = await run(source(def));
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      feed: { type: 'page', format: 'page' },
      items: [],
      regionText: 'Supplement\nAlpha Co.\nBeta Ltd.',
      note: expect.stringContaining('no earlier text to compare with'),
    });
    const text = await run(['--source', JSON.stringify(def)]);
    expect(text.stdout).toMatch(
      /^Supplement \(page, 3 lines in the region\)\nnote: .*\n {2}Supplement\n {2}Alpha Co\.\n {2}Beta Ltd\.\n$/,
    );
    const missing = await run(source({ ...def, selector: '#gone' }));
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'regwatch poll-once: FEED_PARSE: selector: "#gone" matches nothing on the page\n',
    });
  });

  it('previews an rss source given as JSON the same as by URL', async () => {
    const byJson = await run(source({ url: `${base}/feed.xml` }));
    const byUrl = await run([`${base}/feed.xml`, '--json']);
    const a = JSON.parse(byJson.stdout) as { items: Array<{ title: string }>; feed: { type: string } };
    expect(a.feed.type).toBe('rss');
    expect(a.items.map((i) => i.title)).toEqual(
      (JSON.parse(byUrl.stdout) as { items: Array<{ title: string }> }).items.map((i) => i.title),
    );
  });

  it('keeps the SSRF guard for every type', async () => {
    const { code, stderr } = await run(source({ type: 'page', url: `${base}/region.html`, selector: '#region' }), {});
    expect(code).toBe(1);
    expect(stderr).toMatch(/^regwatch poll-once: OUTBOUND_BLOCKED_ADDRESS: refused 127\.0\.0\.1/);
  });

  it.each([
    ['not JSON', '{type: html}', /^ {2}not JSON: /m],
    [
      'an unknown type',
      '{"type":"xml","url":"https://x.test/"}',
      /^ {2}source\.type: must be one of "rss", "html", "federalregister", "page"/m,
    ],
    [
      'a missing selector',
      '{"type":"html","url":"https://x.test/","selectors":{"title":"a","link":"a@href"}}',
      /^ {2}source\.selectors\.item: Invalid input: expected string, received undefined$/m,
    ],
    [
      'a bad URL',
      '{"type":"page","url":"file:///etc/passwd","selector":"main"}',
      /^ {2}source\.url: must be an http\(s\) URL$/m,
    ],
    [
      'both url and agencies',
      '{"type":"federalregister","url":"https://x.test/","agencies":["a"]}',
      /^ {2}source\.url: give exactly one/m,
    ],
  ])('refuses %s, naming the field (exit 2, nothing fetched)', async (_what, json, line) => {
    const { code, stdout, stderr } = await run(['--source', json]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^regwatch poll-once: invalid --source:\n/);
    expect(stderr).toMatch(line);
  });
});
