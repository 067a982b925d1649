import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, watch } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type Config, ConfigFileSchema, parseEnv } from '@regwatch/config';
import { createLogger } from '@regwatch/logger';
import { createAddressPolicy, parseAllowNets } from '@regwatch/outbound';
import { bullPrefix, createRedis, onShutdown } from '@regwatch/queue';
import { feedFromPreset } from '@regwatch/sources';
import iconv from 'iconv-lite';
import {
  FEDERAL_REGISTER_DOCS,
  MOFCOM_LIST,
  renderFederalRegisterJson,
  renderMofcomListPage,
  renderRss,
  TECH_DESK,
  TRADE_DESK,
} from '../demo/sample-feeds.js';
import { startDemoSink } from '../demo/webhook-sink.js';
import type { CommandIo } from '../io.js';
import { ensureRedis } from '../redis-launcher.js';
import { runAll } from '../run-all.js';

const DEMO_PREFIX = 'regwatch-demo';
/** Where the MOFCOM-like list page is served: the preset's own path. */
const MOFCOM_PATH = '/article/zcfg/gnzcfg/zcfggzqd/';

/**
 * `regwatch demo`: the whole pipeline offline. Sample feeds are served from loopback, a local
 * webhook receiver verifies signatures, email goes to the outbox folder. `--exit-when-done`
 * exits once every expected alert arrived (0) or after 60 s (1), for scripts and CI.
 */
export async function demo(args: string[], io: CommandIo): Promise<number> {
  const exitWhenDone = args.includes('--exit-when-done');
  const say = (line: string) => io.stdout(`${line}\n`);
  const env = parseEnv({
    LOG_LEVEL: 'warn',
    ...io.env,
    REGWATCH_PREFIX: DEMO_PREFIX,
    REGWATCH_ALLOW_NETS: ['127.0.0.0/8', io.env.REGWATCH_ALLOW_NETS].filter(Boolean).join(','),
    API_PORT: io.env.API_PORT ?? '0',
  });
  const dataDir = resolve(env.REGWATCH_DATA_DIR);
  const outboxDir = join(dataDir, 'outbox');
  const webhookLog = join(dataDir, 'webhooks.log');
  mkdirSync(outboxDir, { recursive: true });
  rmSync(webhookLog, { force: true });
  for (const f of readdirSync(outboxDir)) if (f.endsWith('.eml')) rmSync(join(outboxDir, f));

  const redis = await ensureRedis({ ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}), dataDir });
  // A fresh demo every run: forget what the last run saw, so its alerts flow again.
  const cleaner = createRedis(redis.url, 'worker');
  const stale = await cleaner.keys(`${bullPrefix(DEMO_PREFIX)}*`);
  if (stale.length > 0) await cleaner.del(...stale);
  await cleaner.quit();

  const feeds = createServer((req, res) => {
    const now = new Date();
    const base = `http://127.0.0.1:${(feeds.address() as AddressInfo).port}`;
    if (req.url === '/trade-desk.xml')
      res
        .writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' })
        .end(renderRss('Trade desk', base, TRADE_DESK, now));
    else if (req.url === '/tech-desk.xml')
      res
        .writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' })
        .end(renderRss('Tech desk', base, TECH_DESK, now));
    // An HTML list page in GBK, as MOFCOM serves them, read with the mofcom-export-control preset.
    else if (req.url === MOFCOM_PATH)
      res
        .writeHead(200, { 'content-type': 'text/html; charset=GBK' })
        .end(iconv.encode(renderMofcomListPage(base, MOFCOM_LIST, now), 'gbk'));
    // A Federal Register documents.json answer, read with the fr-bis preset.
    else if (req.url?.startsWith('/api/v1/documents.json?'))
      res
        .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        .end(renderFederalRegisterJson(base, FEDERAL_REGISTER_DOCS, now));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => feeds.listen(0, '127.0.0.1', r));
  const feedBase = `http://127.0.0.1:${(feeds.address() as AddressInfo).port}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const sink = await startDemoSink(secret, webhookLog, say);

  const file = ConfigFileSchema.parse({
    feeds: [
      { id: 'demo-trade-desk', url: `${feedBase}/trade-desk.xml`, intervalSeconds: 30, title: 'Trade desk (sample)' },
      { id: 'demo-tech-desk', url: `${feedBase}/tech-desk.xml`, intervalSeconds: 30, title: 'Tech desk (sample)' },
      // Catalogue presets pointed at loopback copies: the same selectors and parsing as the real sites.
      feedFromPreset('mofcom-export-control', {
        id: 'demo-mofcom',
        url: `${feedBase}${MOFCOM_PATH}`,
        intervalSeconds: 30,
        title: '商务部 出口管制公告 (sample)',
      }),
      feedFromPreset('fr-bis', {
        id: 'demo-federal-register',
        url: `${feedBase}/api/v1/documents.json?conditions%5Bagencies%5D%5B%5D=industry-and-security-bureau&order=newest`,
        intervalSeconds: 30,
        title: 'Federal Register — BIS (sample)',
      }),
    ],
    subscriptions: [
      {
        id: 'demo-compliance',
        team: 'demo',
        name: 'Everything flagged',
        channels: [
          { type: 'webhook', url: sink.url, secret },
          { type: 'email', to: ['compliance@example.com'] },
        ],
      },
    ],
  });
  const config: Config = { env, file };
  // No base name: each service's child logger sets `svc`, as the separate services do.
  const log = createLogger({ level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  const started = Date.now();
  const app = await runAll({
    config,
    redisUrl: redis.url,
    log,
    policy: createAddressPolicy(parseAllowNets(env.REGWATCH_ALLOW_NETS)),
    outboxDir,
  });

  const samples = [...TRADE_DESK, ...TECH_DESK, ...MOFCOM_LIST, ...FEDERAL_REGISTER_DOCS];
  // Distinct stories: the syndicated copy repeats a trade-desk summary; list-page items have only a title.
  const expected = new Set(samples.filter((s) => s.expect === 'flag').map((s) => s.summary || s.title)).size;
  say(
    `regwatch demo: 2 RSS feeds, an HTML list page (GBK) and a Federal Register API on ${feedBase}, API on ${app.apiUrl}`,
  );
  say(`  ${samples.length} items, ${expected} distinct export-control/customs stories expected to alert`);
  say(`  webhooks → ${webhookLog}   email → ${outboxDir}/*.eml\n`);
  const mails = new Set<string>();
  const watcher = watch(outboxDir, (_event, name) => {
    if (name?.endsWith('.eml') && !mails.has(name)) {
      mails.add(name);
      say(`email    ✔ ${join(outboxDir, name)}`);
    }
  });

  const stop = async () => {
    watcher.close();
    await app.close();
    await sink.close();
    await new Promise<void>((r) => feeds.close(() => r()));
    await redis.stop();
  };
  if (!exitWhenDone) {
    onShutdown(stop, log);
    return new Promise<number>(() => {});
  }
  const created = () => sink.counts['alert.created'] ?? 0;
  const deadline = started + 60_000;
  while (Date.now() < deadline && (created() < expected || mails.size < expected))
    await new Promise((r) => setTimeout(r, 100));
  const ok = created() >= expected && mails.size >= expected;
  // Give a duplicate a moment to show itself before judging "exactly once".
  if (ok) await new Promise((r) => setTimeout(r, 1_500));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const updated = sink.counts['alert.updated'] ?? 0;
  say(
    `\n${created()} alert.created webhooks (+${updated} alert.updated for later sources) and ${mails.size} emails for ${expected} stories in ${seconds} s`,
  );
  await stop();
  return ok && created() === expected && mails.size === expected ? 0 : 1;
}
