import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '@regwatch/runtime';

/** The repository root, from test/dist/bench/ (or test/src/bench/ under a TS loader). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Child {
  name: string;
  process: ChildProcess;
  logPath: string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

/** Starts `node <script> ...args` with its output in `<logDir>/<name>.log`; `ipc` opens a message channel. */
export function spawnNode(
  name: string,
  script: string,
  opts: { args?: string[]; nodeArgs?: string[]; env: NodeJS.ProcessEnv; logDir: string; ipc?: boolean },
): Child {
  const logPath = join(opts.logDir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  // As the services are deployed (NODE_FLAGS), on both sides: the reference's processes too.
  const child = spawn(process.execPath, [...NODE_FLAGS, ...(opts.nodeArgs ?? []), script, ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: opts.env,
    stdio: opts.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  live.add(child);
  return { name, process: child, logPath, exited };
}

const live = new Set<ChildProcess>();

/** SIGTERM to every child still running (on Ctrl-C, or when the bench itself fails). */
export function terminateAll(): void {
  for (const child of live) child.kill('SIGTERM');
}

/** The last lines a child wrote, to explain why it stopped. */
export function logTail(child: Child, lines = 15): string {
  try {
    return readFileSync(child.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/**
 * SIGTERM to each child (the services drain in-flight jobs and exit 0), SIGKILL to those still
 * running after `graceMs`. Returns each child's exit code or signal.
 */
export async function stopChildren(
  children: readonly Child[],
  graceMs = 15_000,
): Promise<Record<string, number | string>> {
  for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGTERM');
  const codes = await Promise.all(
    children.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<string>((resolve) => {
        timer = setTimeout(() => {
          c.process.kill('SIGKILL');
          resolve('SIGKILL (did not drain in time)');
        }, graceMs);
      });
      const code = await Promise.race([c.exited, killed]);
      clearTimeout(timer);
      return [c.name, code] as const;
    }),
  );
  return Object.fromEntries(codes);
}

/** Rejects as soon as any child exits, naming it and quoting its log; for racing against a measurement. */
export function anyExit(children: readonly Child[]): { promise: Promise<never>; cancel(): void } {
  let cancelled = false;
  const promise = new Promise<never>((_, reject) => {
    for (const c of children) {
      void c.exited.then((code) => {
        if (!cancelled) reject(new Error(`${c.name} exited early (${code}):\n${logTail(c)}`));
      });
    }
  });
  promise.catch(() => {});
  return {
    promise,
    cancel: () => {
      cancelled = true;
    },
  };
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) a process has used so far, in ms, from /proc; NaN where unreadable. */
export function processCpuMs(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** CPU ms used so far by each named process, and by the bench process itself (`bench`). */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const usage = process.cpuUsage();
  const ms: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) ms[name] = processCpuMs(pid);
  ms['bench'] = (usage.user + usage.system) / 1000;
  return ms;
}

/** CPU ms per unit of work between two snapshots, per process. */
export function cpuPerUnit(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) / Math.max(1, units)) * 1000) / 1000]),
  );
}
