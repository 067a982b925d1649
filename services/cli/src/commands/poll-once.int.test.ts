import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '../io.js';
import { pollOnce } from './poll-once.js';

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>BIS notices</title><link>https://bis.example.gov/</link>
<item><title>Entity List additions</title><link>https://bis.example.gov/n/1?utm_source=rss</link><guid>n-1</guid>
<pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate><description>&lt;p&gt;Adds 12 entities.&lt;/p&gt;</description></item>
</channel></rss>`;

let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/feed.xml') res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS);
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
    expect(stderr).toBe('usage: regwatch poll-once <url> [--json]\n');
  });
});
