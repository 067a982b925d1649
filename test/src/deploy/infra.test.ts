import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvSchema, parseConfigText } from '@regwatch/config';
import { QUEUES } from '@regwatch/contracts';
import { bullPrefix } from '@regwatch/queue';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

/**
 * No Docker engine or cluster runs where the tests run, so the deployment files are checked
 * against the code instead: every env name exists in packages/config/src/env.ts, probe paths and
 * ports are the ones the services serve, every path the Dockerfile copies exists, the kustomization
 * lists every manifest, KEDA watches the list BullMQ really uses.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const INFRA = join(ROOT, 'infra');
const SERVICES = ['poller', 'classifier', 'notifier', 'api'] as const;
const WORKERS = ['poller', 'classifier', 'notifier'] as const;
const ENV_NAMES = new Set(Object.keys(EnvSchema.shape));
/** The worker drain in packages/queue/src/lifecycle.ts (onShutdown's graceMs). */
const DRAIN_SECONDS = 25;

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is checked field by field below
type Doc = any;

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function seconds(value: string): number {
  const m = /^(\d+)(s|m)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

describe('infra/redis/redis.conf', () => {
  const conf = read(join(INFRA, 'redis/redis.conf'));
  const directives = new Map(
    conf
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => [l.split(/\s+/)[0]!, l.slice(l.split(/\s+/)[0]!.length).trim()]),
  );

  it('keeps every job: append-only file fsynced every second, never evicting', () => {
    expect(directives.get('appendonly')).toBe('yes');
    expect(directives.get('appendfsync')).toBe('everysec');
    expect(directives.get('maxmemory-policy')).toBe('noeviction');
    expect(directives.has('requirepass')).toBe(false);
  });
});

describe('infra/docker/Dockerfile', () => {
  const text = read(join(INFRA, 'docker/Dockerfile'));
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });

  it('is multi-stage and runs as a non-root user with a HEALTHCHECK', () => {
    expect(instructions.filter((i) => i.keyword === 'FROM').length).toBeGreaterThanOrEqual(3);
    const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
    const runtime = instructions.slice(lastFrom);
    const user = runtime.find((i) => i.keyword === 'USER');
    expect(user?.args).toBeDefined();
    expect(['root', '0']).not.toContain(user!.args.split(':')[0]);
    expect(runtime.some((i) => i.keyword === 'HEALTHCHECK' && i.args.includes('/readyz'))).toBe(true);
    // The runtime stage copies only the deployed service out of the build stage.
    const copies = runtime.filter((i) => i.keyword === 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) expect(c.args).toMatch(/--from=build\b/);
    expect(runtime.find((i) => i.keyword === 'ENTRYPOINT')?.args).toContain('services/$SERVICE/dist/main.js');
  });

  it('copies only paths that exist in the build context (the repository root)', () => {
    const copies = instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
    const fromContext = copies.filter((c) => !/--from=/.test(c.args));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const c of fromContext) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
    }
  });

  it('builds each service from a main that exists, with the pinned pnpm and turbo', () => {
    for (const svc of [...SERVICES, 'cli']) {
      expect(existsSync(join(ROOT, 'services', svc, 'src/main.ts')), svc).toBe(true);
      const pkg = JSON.parse(read(join(ROOT, 'services', svc, 'package.json')));
      expect(pkg.name).toBe(`@regwatch/${svc}`);
      expect(pkg.scripts.build).toBeDefined();
    }
    const rootPkg = JSON.parse(read(join(ROOT, 'package.json')));
    expect(text).toContain(`pnpm@${rootPkg.packageManager.split('@')[1]}`);
    expect(text).toContain(`turbo@${rootPkg.devDependencies.turbo}`);
    const nodeMajor = /node:(\d+)\./.exec(text)?.[1];
    expect(Number(nodeMajor)).toBe(20);
  });

  it('sets only environment names regwatch reads (plus Node and the entrypoint)', () => {
    const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
    const envs = instructions
      .slice(lastFrom)
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i) => [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]!));
    expect(envs.length).toBeGreaterThan(0);
    for (const name of envs) {
      if (name === 'NODE_ENV' || name === 'NODE_OPTIONS' || name === 'SERVICE') continue;
      expect(ENV_NAMES.has(name), name).toBe(true);
    }
  });

  it('keeps node_modules, dist and secrets out of the build context', () => {
    const ignore = read(join(INFRA, 'docker/Dockerfile.dockerignore')).split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git', '.env', '.regwatch']) expect(ignore).toContain(entry);
  });
});

describe('infra/compose/docker-compose.yml', () => {
  const dir = join(INFRA, 'compose');
  const compose: Doc = parse(read(join(dir, 'docker-compose.yml')), { merge: true });

  it('runs Redis, an SMTP catcher and the four services, each with a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...SERVICES, 'mailpit', 'redis'].sort());
    for (const [name, svc] of Object.entries<Doc>(compose.services)) {
      expect(svc.healthcheck?.test, `${name} healthcheck`).toBeDefined();
    }
  });

  it('starts Redis with infra/redis/redis.conf on a volume', () => {
    const redis = compose.services.redis;
    const conf = redis.volumes.find((v: string) => v.endsWith(':ro') && v.includes('redis.conf'));
    expect(existsSync(resolve(dir, conf.split(':')[0]))).toBe(true);
    expect(redis.command.join(' ')).toContain(conf.split(':')[1]);
    expect(redis.volumes.some((v: string) => v.startsWith('redis-data:'))).toBe(true);
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('builds each service from the Dockerfile, waits for Redis, drains longer than the worker does', () => {
    for (const name of SERVICES) {
      const svc = compose.services[name];
      expect(resolve(dir, svc.build.context)).toBe(resolve(ROOT));
      expect(existsSync(join(resolve(dir, svc.build.context), svc.build.dockerfile))).toBe(true);
      expect(svc.build.args.SERVICE).toBe(name);
      expect(svc.depends_on.redis.condition).toBe('service_healthy');
      expect(seconds(svc.stop_grace_period)).toBeGreaterThan(DRAIN_SECONDS);
      for (const volume of svc.volumes as string[])
        expect(existsSync(resolve(dir, volume.split(':')[0]!)), volume).toBe(true);
      const probe = svc.healthcheck.test.join(' ');
      const port = name === 'api' ? svc.environment.API_PORT : svc.environment.HEALTH_PORT;
      expect(probe).toContain(`:${port}/readyz`);
    }
    expect(compose.services.notifier.depends_on.mailpit.condition).toBe('service_healthy');
  });

  it('uses only environment names from packages/config/src/env.ts', () => {
    for (const name of SERVICES) {
      for (const key of Object.keys(compose.services[name].environment))
        expect(ENV_NAMES.has(key), `${name}: ${key}`).toBe(true);
    }
  });
});

describe('infra/k8s (kustomize)', () => {
  const dir = join(INFRA, 'k8s');
  const kustomization: Doc = parse(read(join(dir, 'kustomization.yaml')));
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const docs: Doc[] = files.flatMap((f) =>
    parseAllDocuments(read(join(dir, f))).map((d) => {
      expect(d.errors, f).toEqual([]);
      return Object.assign(d.toJS(), { __file: f });
    }),
  );
  const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const named = (kind: string, name: string) => ofKind(kind).find((d) => d.metadata.name === name);
  const deployments = ofKind('Deployment');
  const envConfig = named('ConfigMap', 'regwatch-env');
  const appSecret = named('Secret', 'regwatch-secrets');
  const configFile: string = named('ConfigMap', 'regwatch-config').data['regwatch.yaml'];
  const fileVars = new Set([...configFile.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!));

  it('lists every manifest in the kustomization, and only those', () => {
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  it('gives every object an apiVersion, a known kind and a name', () => {
    const known = [
      'Namespace',
      'ConfigMap',
      'Secret',
      'Service',
      'Deployment',
      'StatefulSet',
      'PodDisruptionBudget',
      'ScaledObject',
      'TriggerAuthentication',
    ];
    for (const d of docs) {
      expect(d.apiVersion, d.__file).toMatch(/^[a-z0-9.]+\/v\d+(alpha\d+|beta\d+)?$|^v1$/);
      expect(known, d.__file).toContain(d.kind);
      expect(d.metadata?.name, d.__file).toMatch(/^[a-z0-9-]+$/);
    }
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...SERVICES].sort());
  });

  it('finds the api settings in the shared env schema', () => {
    expect(ENV_NAMES.has('API_REQUIRED_SERVICES')).toBe(true);
  });

  it('keeps api readiness independent of the workers (else one worker outage empties the Service)', () => {
    const [container] = named('Deployment', 'api').spec.template.spec.containers;
    expect(container.env.find((e: Doc) => e.name === 'API_REQUIRED_SERVICES')).toEqual({
      name: 'API_REQUIRED_SERVICES',
      value: '',
    });
  });

  it('probes /healthz and /readyz on the port each service listens on', () => {
    for (const dep of deployments) {
      const name = dep.metadata.name as string;
      const [container] = dep.spec.template.spec.containers;
      const env = Object.fromEntries((container.env ?? []).map((e: Doc) => [e.name, e.value]));
      const listens = Number(name === 'api' ? env.API_PORT : env.HEALTH_PORT);
      expect(listens, `${name} sets its port`).toBeGreaterThan(0);
      if (name !== 'api') expect(env.HEALTH_HOST).toBe('0.0.0.0');
      else expect(env.API_HOST).toBe('0.0.0.0');
      const ports = new Map<string, number>(container.ports.map((p: Doc) => [p.name, p.containerPort]));
      const portOf = (probe: Doc) =>
        typeof probe.httpGet.port === 'number' ? probe.httpGet.port : ports.get(probe.httpGet.port);
      expect(container.livenessProbe.httpGet.path, name).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path, name).toBe('/readyz');
      expect(portOf(container.livenessProbe), name).toBe(listens);
      expect(portOf(container.readinessProbe), name).toBe(listens);
      expect(portOf(container.startupProbe), name).toBe(listens);
    }
  });

  it('sets requests and limits, runs as non-root, and waits out the drain before killing', () => {
    for (const dep of deployments) {
      const spec = dep.spec.template.spec;
      const [container] = spec.containers;
      expect(container.resources.requests.cpu, dep.metadata.name).toBeDefined();
      expect(container.resources.requests.memory, dep.metadata.name).toBeDefined();
      expect(container.resources.limits.memory, dep.metadata.name).toBeDefined();
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      const preStop = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
      expect(spec.terminationGracePeriodSeconds, dep.metadata.name).toBeGreaterThan(DRAIN_SECONDS + preStop);
      expect(dep.spec.selector.matchLabels).toEqual(
        expect.objectContaining({
          'app.kubernetes.io/name': dep.spec.template.metadata.labels['app.kubernetes.io/name'],
        }),
      );
      expect(kustomization.images.map((i: Doc) => i.name)).toContain(container.image);
    }
  });

  it('has a PodDisruptionBudget for every Deployment', () => {
    for (const dep of deployments) {
      const pdb = ofKind('PodDisruptionBudget').find(
        (p) => p.spec.selector.matchLabels['app.kubernetes.io/name'] === dep.metadata.name,
      );
      expect(pdb, dep.metadata.name).toBeDefined();
    }
  });

  it('reads config from a ConfigMap and secrets from a Secret, by names env.ts knows', () => {
    for (const key of Object.keys(envConfig.data)) expect(ENV_NAMES.has(key), `regwatch-env: ${key}`).toBe(true);
    for (const key of Object.keys(appSecret.stringData)) {
      expect(ENV_NAMES.has(key) || fileVars.has(key), `regwatch-secrets: ${key}`).toBe(true);
    }
    for (const dep of deployments) {
      const [container] = dep.spec.template.spec.containers;
      const known = (name: string) => ENV_NAMES.has(name);
      for (const e of container.env ?? []) expect(known(e.name), `${dep.metadata.name}: ${e.name}`).toBe(true);
      for (const from of container.envFrom) {
        if (from.configMapRef) expect(named('ConfigMap', from.configMapRef.name)).toBeDefined();
        if (from.secretRef) expect(named('Secret', from.secretRef.name)).toBeDefined();
      }
      for (const v of dep.spec.template.spec.volumes ?? []) {
        if (v.configMap) expect(named('ConfigMap', v.configMap.name), v.configMap.name).toBeDefined();
      }
      const mount = container.volumeMounts.find((m: Doc) => m.name === 'config');
      expect(join(mount.mountPath, 'regwatch.yaml')).toBe(envConfig.data.REGWATCH_CONFIG);
    }
  });

  it('ships a config file that regwatch itself accepts', () => {
    const env = Object.fromEntries([...fileVars].map((v) => [v, `whsec_${Buffer.alloc(24, 7).toString('base64')}`]));
    const parsed = parseConfigText(configFile, 'configmap-config.yaml', env);
    expect(parsed.feeds.length).toBeGreaterThan(0);
    expect(parsed.subscriptions.length).toBeGreaterThan(0);
  });

  it('keeps the Redis ConfigMap identical to infra/redis/redis.conf', () => {
    expect(named('ConfigMap', 'redis-conf').data['redis.conf']).toBe(read(join(INFRA, 'redis/redis.conf')));
  });

  it('scales classifier and notifier on the BullMQ wait lists of their own queues', () => {
    const prefix = envConfig.data.REGWATCH_PREFIX as string;
    const consumes: Record<string, string[]> = {
      classifier: [QUEUES.items],
      notifier: [QUEUES.alerts, QUEUES.deliveries],
    };
    const scaled = ofKind('ScaledObject');
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(Object.keys(consumes).sort());
    for (const so of scaled) {
      const target = named('Deployment', so.spec.scaleTargetRef.name);
      expect(target).toBeDefined();
      // KEDA owns the replica count; a fixed one would fight it on every apply.
      expect(target.spec.replicas).toBeUndefined();
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      const lists = so.spec.triggers.map((t: Doc) => {
        expect(t.type).toBe('redis');
        expect(named('TriggerAuthentication', t.authenticationRef.name)).toBeDefined();
        expect(Number(t.metadata.listLength)).toBeGreaterThan(0);
        return t.metadata.listName;
      });
      expect(lists.sort()).toEqual(
        consumes[so.spec.scaleTargetRef.name]!.map((q) => `${bullPrefix(prefix)}:${q}:wait`).sort(),
      );
    }
  });

  it('does not scale workers below one: delayed retries need a worker to run them', () => {
    for (const name of WORKERS) {
      const so = named('ScaledObject', name);
      const dep = named('Deployment', name);
      expect(so ? so.spec.minReplicaCount : dep.spec.replicas, name).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('docs/operations.md', () => {
  it('exists and links the files it documents', () => {
    const doc = read(join(ROOT, 'docs/operations.md'));
    for (const link of doc.matchAll(/\]\((\.\.\/[^)#\s]+)/g)) {
      expect(existsSync(resolve(dirname(join(ROOT, 'docs/operations.md')), link[1]!)), link[1]).toBe(true);
    }
  });
});
