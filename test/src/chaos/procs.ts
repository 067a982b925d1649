import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** The services the chaos suite runs as real processes, by `services/<name>/dist/main.js`. */
export type ServiceName = 'poller' | 'classifier' | 'notifier' | 'api';

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
}

/** Spawns a process with its output appended to `<logDir>/<name>.log`, for post-mortems. */
export function spawnLogged(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, logDir: string): Proc {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return { name, child, exited };
}

/** Sends a signal and waits for the exit, up to `timeoutMs`; undefined when it did not exit in time. */
export async function stop(
  proc: Proc,
  signal: NodeJS.Signals,
  timeoutMs = 30_000,
): Promise<number | string | undefined> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null)
    return proc.child.exitCode ?? proc.child.signalCode!;
  proc.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const result = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  return result;
}

export function isAlive(proc: Proc): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}

/** A free loopback port (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A TCP forwarder on a fixed loopback port that can be taken down (connections refused) and
 * brought back on the same port: the webhook "endpoint outage", without touching the receiver
 * that verifies and records what arrives.
 */
export interface Forwarder {
  port: number;
  /** Connections dropped while down. */
  readonly dropped: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/**
 * While down, every connection is closed as soon as it is accepted (the sender sees a reset and
 * counts a failed attempt); the count shows the outage was actually hit.
 */
export async function startForwarder(targetPort: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const state = { isDown: false, dropped: 0 };
  const server: Server = createServer((inbound) => {
    if (state.isDown) {
      state.dropped++;
      inbound.resetAndDestroy();
      return;
    }
    const outbound = connect(targetPort, '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    get dropped() {
      return state.dropped;
    },
    down() {
      state.isDown = true;
      // Keep-alive connections from before the outage go too.
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    up() {
      state.isDown = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
