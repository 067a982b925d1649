import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';

/** True when something on host:port answers a Redis PING. */
function redisAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

let child: ChildProcess | undefined;

/**
 * Tests need a real Redis. With REDIS_URL unset and nothing on 127.0.0.1:6379, start a
 * throw-away redis-server (no persistence) for the run, so `pnpm test` works on a fresh machine
 * that has Redis installed but not running.
 */
export async function setup(): Promise<void> {
  if (process.env.REDIS_URL || (await redisAnswers(6379))) return;
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'Tests need Redis: nothing answers on 127.0.0.1:6379 and redis-server is not installed (apt-get install redis-server), or set REDIS_URL.',
    );
  }
  child = spawn('redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers(6379)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('started redis-server for the tests, but it did not answer within 10 s');
}

export async function teardown(): Promise<void> {
  child?.kill('SIGTERM');
}
