import type { Logger } from '@regwatch/logger';

/**
 * Runs `close` once on SIGTERM or SIGINT: stop taking jobs, finish in-flight ones, close
 * connections, exit 0. A second signal, or a drain longer than `graceMs`, exits 1 at once.
 */
export function onShutdown(close: () => Promise<void>, log: Logger, graceMs = 25_000): () => void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down: draining in-flight jobs');
    const timer = setTimeout(() => {
      log.error({ graceMs }, 'drain took too long: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    close().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/** Closes resources in order, collecting rather than stopping at the first error. */
export async function closeAll(closers: Array<() => Promise<unknown>>): Promise<void> {
  const errors: unknown[] = [];
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'some resources failed to close');
}
