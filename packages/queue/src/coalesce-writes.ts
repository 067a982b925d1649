import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

/**
 * Socket writes to Redis made in one run of the event loop's microtasks leave as one write.
 *
 * ioredis writes every command it sends with its own `socket.write`, which is a system call, and
 * on these machines a loopback write costs more CPU than Redis spends on the command. A worker
 * running 16–32 jobs at once sends many commands at the same moment: one reply batch from Redis
 * resolves several jobs' promises, and each continues with its next command (BullMQ's
 * moveToFinished, addJob, moveToActive, regwatch's own state). The socket is corked on the first
 * write and uncorked on the next tick, so those commands go out in one `writev`, in the order they
 * were written. Nothing else changes: ioredis still matches replies to commands in order, resends
 * unanswered commands after a reconnect as before, and a command waits at most until the current
 * microtasks have run (no timer).
 *
 * The same idea as ioredis' `enableAutoPipelining`, one level lower: it does not regroup commands
 * (auto-pipelining crashed a poller in the chaos suite, redis/ioredis#1931, and breaks EVALSHA on a
 * Redis Cluster, redis/ioredis#2109), it only sends the bytes ioredis wrote in fewer system calls.
 */
export function coalesceWrites(socket: Duplex): void {
  const write = socket.write;
  let corked = false;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function coalescedWrite(this: Duplex, ...args: Parameters<Duplex['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  } as Duplex['write'];
}

type ConnectorClass = new (options: unknown) => { connect(...args: unknown[]): Promise<unknown> };

// ioredis' connector for one server, which its index does not export. The path is stable across
// ioredis 5 (the lockfile pins the version); the connection tests fail loudly if it moves.
const { default: StandaloneConnector } = createRequire(import.meta.url)(
  'ioredis/built/connectors/StandaloneConnector.js',
) as { default: ConnectorClass };

/**
 * ioredis' own connector, with {@link coalesceWrites} on every socket it opens. Passed as the
 * `Connector` option, so connections BullMQ duplicates from ours (its blocking connection, for
 * one) inherit it with the rest of the options.
 */
export class CoalescingConnector extends StandaloneConnector {
  override async connect(...args: unknown[]): Promise<unknown> {
    const stream = await super.connect(...args);
    coalesceWrites(stream as Duplex);
    return stream;
  }
}
