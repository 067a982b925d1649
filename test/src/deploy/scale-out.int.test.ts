import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  deletePrefix,
  type FeedServer,
  renderRss,
  startFeedServer,
  startWebhookReceiver,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  type WebhookReceiver,
} from '../helpers/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKERS = ['poller', 'classifier', 'notifier'] as const;
const mainOf = (svc: string) => join(ROOT, 'services', svc, 'dist/main.js');
const missing = WORKERS.filter((svc) => !existsSync(mainOf(svc)));
if (missing.length > 0) console.warn(`no build of ${missing.join(', ')} (run pnpm build): skipping the scale-out test`);

/** Five distinct trade-control stories (the demo's trade desk) spread over three feeds, plus a look-alike. */
const STORIES = [
  {
    slug: 'china-customs-gpu-inspections',
    title: 'Chinese customs step up inspections of semiconductor shipments to stop NVIDIA H20 imports',
    summary:
      'Customs officers at major ports in China are now checking every incoming semiconductor shipment for NVIDIA H20 and RTX 6000D accelerators, and large platforms such as Tencent, ByteDance and Alibaba were told to cancel their orders.',
  },
  {
    slug: 'bis-entity-list-additions',
    title: 'Commerce Department adds 23 companies to the Entity List over advanced chip diversion',
    summary:
      'The Bureau of Industry and Security said the firms helped route controlled AI accelerators to restricted end users; exporters now need a licence for any item subject to the EAR.',
  },
  {
    slug: 'mofcom-gallium-controls',
    title: '商务部对镓、锗相关物项实施出口管制',
    summary: '商务部和海关总署发布公告,对镓、锗相关两用物项实施出口管制,出口经营者须申请许可。',
  },
  {
    slug: 'hong-kong-smuggling-bust',
    title: 'Hong Kong customs seize smuggled GPUs hidden in a lorry at the border',
    summary:
      'Officers found 300 graphics processors concealed among consumer goods in a truck bound for the mainland, in what the department called a smuggling case involving controlled chips.',
  },
  {
    slug: 'eu-duties-electric-vehicles',
    title: 'EU confirms countervailing duties on electric vehicles made in China',
    summary:
      'The European Commission set definitive anti-subsidy tariffs of up to 35% on battery electric cars imported from China.',
  },
];
const REVIEW = {
  slug: 'rtx-review',
  title: 'Review: the new RTX 5070 is fast, quiet and a little too expensive',
  summary:
    'NVIDIA’s mid-range card beats its predecessor by 20% in our game tests; ray tracing is finally usable at 1440p.',
};
const FEEDS: Record<string, Array<typeof REVIEW>> = {
  'scale-a': [STORIES[0]!, STORIES[1]!],
  'scale-b': [STORIES[2]!, STORIES[3]!],
  'scale-c': [STORIES[4]!, REVIEW],
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Proc {
  name: string;
  child: ChildProcess;
  healthUrl: string;
  output: string;
  exit: Promise<number | null>;
}

/**
 * Horizontal scale as production runs it: two processes of each worker, built, spawned with only
 * the environment a container would get, sharing one Redis. Each feed must be fetched once, each
 * delivery made once, and every process must drain and exit 0 on SIGTERM.
 */
describe.skipIf(missing.length > 0)('two pollers, two classifiers, two notifiers on one Redis', () => {
  const prefix = testPrefix();
  const redis = testRedis();
  const secrets = [0, 1].map(() => `whsec_${randomBytes(24).toString('base64')}`);
  const dir = mkdtempSync(join(tmpdir(), 'rw-scale-'));
  const procs: Proc[] = [];
  let feeds: FeedServer;
  let hooks: WebhookReceiver[];
  let spawnedAt = 0;
  let readyAt = 0;

  beforeAll(async () => {
    feeds = await startFeedServer();
    hooks = await Promise.all(secrets.map((s) => startWebhookReceiver(s)));
    for (const [id, stories] of Object.entries(FEEDS)) feeds.set(`/${id}.xml`, renderRss(id, feeds.url, stories));
    const config = {
      // A day apart: the only fetch in the test window is the first poll of a newly seen feed.
      feeds: Object.keys(FEEDS).map((id) => ({ id, url: `${feeds.url}/${id}.xml`, intervalSeconds: 86_400 })),
      subscriptions: [
        {
          id: 'scale-team',
          team: 'scale',
          filter: {
            topics: [
              'export_controls',
              'customs_enforcement',
              'import_restrictions',
              'smuggling',
              'tariffs_trade_remedies',
            ],
          },
          channels: hooks.map((h, i) => ({ type: 'webhook', url: h.url, secret: secrets[i] })),
        },
      ],
    };
    const configFile = join(dir, 'regwatch.yaml');
    writeFileSync(configFile, stringify(config));
    spawnedAt = Date.now();
    for (const name of WORKERS) {
      for (const n of [1, 2]) {
        const port = await freePort();
        const child = spawn(process.execPath, [mainOf(name)], {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            REDIS_URL: TEST_REDIS_URL,
            REGWATCH_PREFIX: prefix,
            REGWATCH_CONFIG: configFile,
            REGWATCH_ALLOW_NETS: '127.0.0.0/8',
            REGWATCH_DATA_DIR: join(dir, `${name}-${n}`),
            LOG_LEVEL: 'warn',
            LOG_FORMAT: 'json',
            HEALTH_HOST: '127.0.0.1',
            HEALTH_PORT: String(port),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const proc: Proc = {
          name: `${name}-${n}`,
          child,
          healthUrl: `http://127.0.0.1:${port}`,
          output: '',
          exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
        };
        const collect = (d: Buffer) => {
          proc.output += d.toString();
        };
        child.stdout?.on('data', collect);
        child.stderr?.on('data', collect);
        procs.push(proc);
      }
    }
    // Ready = each process listens on its HEALTH_PORT and reaches Redis (its workers started before).
    const isReady = async (p: Proc) => {
      try {
        return (await fetch(`${p.healthUrl}/readyz`)).ok;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(procs.map(isReady));
      if (states.every(Boolean)) break;
      const exited = procs.find((p) => p.child.exitCode !== null);
      if (exited) throw new Error(`${exited.name} exited ${exited.child.exitCode}: ${exited.output.slice(-500)}`);
      if (Date.now() > deadline) {
        throw new Error(
          `not ready within 20 s: ${procs
            .filter((_, i) => !states[i])
            .map((p) => p.name)
            .join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    readyAt = Date.now();
  }, 40_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await deletePrefix(redis, prefix);
    await redis.quit();
    await Promise.all([feeds?.close(), ...(hooks ?? []).map((h) => h.close())]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches each feed once and makes each delivery once (5 stories × 2 channels)', async () => {
    await Promise.all(hooks.map((h) => h.waitFor(STORIES.length, 20_000)));
    // Hold the window open ~12 s from spawn (3 s at least after all are ready): a duplicate poll
    // from the second poller, or a second scheduler run, would land in it.
    const rest = Math.max(spawnedAt + 12_000, readyAt + 3_000) - Date.now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));

    const fetches = Object.fromEntries(
      Object.keys(FEEDS).map((id) => [id, feeds.requests.filter((r) => r.path === `/${id}.xml`).length]),
    );
    expect(fetches).toEqual({ 'scale-a': 1, 'scale-b': 1, 'scale-c': 1 });

    for (const h of hooks) {
      expect(h.rejected).toBe(0);
      const ids = h.received.map((r) => r.id);
      expect(new Set(ids).size, 'no webhook-id twice').toBe(ids.length);
      expect(h.received.map((r) => r.payload.data.title).sort()).toEqual(STORIES.map((s) => s.title).sort());
    }
    expect(hooks.reduce((n, h) => n + h.received.length, 0)).toBe(STORIES.length * hooks.length);
  });

  it('drains every process on SIGTERM and exits 0', async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => p.exit));
    const byName = Object.fromEntries(procs.map((p, i) => [p.name, codes[i]]));
    expect(byName, procs.map((p) => `${p.name}: ${p.output.slice(-400)}`).join('\n')).toEqual(
      Object.fromEntries(procs.map((p) => [p.name, 0])),
    );
  }, 35_000);
});
