import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bullPrefix } from '@regwatch/queue';
import type { Redis } from 'ioredis';
import { REPO_ROOT } from './procs.js';

/**
 * `pnpm bench --profile` diagnostics: which Redis commands the pipeline sends per item (only the
 * commands that touch the bench's keys, so other users of the server do not count) and where each
 * worker spends its CPU (V8 CPU profiles). Both slow the pipeline down: use them to find where
 * time goes, not for the figures.
 */

/** BullMQ's Lua scripts by the SHA1 that EVALSHA names them with. */
function bullmqScripts(): Map<string, string> {
  const dir = join(REPO_ROOT, 'test/node_modules/bullmq/dist/cjs/scripts');
  const byHash = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.js') || file === 'index.js') continue;
    const text = readFileSync(join(dir, file), 'utf8');
    // Each module holds `const content = \`…\`;` (the script, template-escaped).
    const m = /const content = `([\s\S]*?)`;\s*\n/.exec(text);
    if (!m) continue;
    const content = m[1]!
      .replace(/\\`/g, '`')
      .replace(/\\\$\{/g, '${')
      .replace(/\\\\/g, '\\');
    byHash.set(createHash('sha1').update(content).digest('hex'), file.replace(/\.js$/, ''));
  }
  return byHash;
}

export interface CommandCounts {
  /** Commands sent by clients (round trips, less pipelining), EVALSHA by BullMQ script name. */
  sent: Record<string, number>;
  /** Commands run inside Lua scripts on the server. */
  inScripts: number;
}

export interface CommandCounter {
  stop(): Promise<CommandCounts>;
}

/** Counts, through MONITOR, the commands whose arguments name a key under `prefix`. */
export async function countCommands(redis: Redis, prefix: string): Promise<CommandCounter> {
  const scripts = bullmqScripts();
  const tag = bullPrefix(prefix);
  const counts = new Map<string, number>();
  let inScripts = 0;
  // monitor() opens a connection of its own; a duplicate() around it stayed open and kept `pnpm bench --profile` from exiting.
  const monitor = await redis.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!args.some((a) => a.includes(tag))) return;
    if (source === 'lua') {
      inScripts++;
      return;
    }
    const cmd = args[0]!.toLowerCase();
    const name = cmd === 'evalsha' ? `evalsha ${scripts.get(args[1] ?? '') ?? (args[1] ?? '').slice(0, 8)}` : cmd;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  return {
    stop: async () => {
      monitor.disconnect();
      return { sent: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])), inScripts };
    },
  };
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  pid: number;
  totalMs: number;
  /** Self time by where the code lives: a dependency, a regwatch package, node internals, GC. */
  byOwner: Array<[string, number]>;
  topFunctions: Array<[string, number]>;
}

function ownerOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pnpm = /node_modules\/\.pnpm\/((?:@[^+/]+\+)?[^@/]+)@/.exec(url);
  if (pnpm) return pnpm[1]!.replace('+', '/');
  const workspace = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (workspace) return `@regwatch/${workspace[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

/** Self time per owner and per function of each `.cpuprofile` in `dir` (Node's --cpu-prof output). */
export function summarizeProfiles(dir: string, top = 12): ProfileSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((file) => {
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
      const self = new Map<number, number>();
      profile.samples.forEach((id, i) => {
        self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
      });
      const byOwner = new Map<string, number>();
      const byFunction = new Map<string, number>();
      let total = 0;
      for (const [id, us] of self) {
        const frame = nodes.get(id)!.callFrame;
        if (frame.functionName === '(idle)') continue;
        total += us;
        const owner = ownerOf(frame.url, frame.functionName);
        byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
        const where = frame.url ? `${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}` : '';
        const fn = `${frame.functionName || '(anonymous)'} ${where}`.trim();
        byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      }
      const ms = (entries: Map<string, number>) =>
        [...entries]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([k, us]) => [k, Math.round(us / 1000)] as [string, number]);
      return {
        file: pathToFileURL(join(dir, file)).href,
        pid: Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1] ?? -1),
        totalMs: Math.round(total / 1000),
        byOwner: ms(byOwner),
        topFunctions: ms(byFunction),
      };
    });
}
