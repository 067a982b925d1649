import { createHash } from 'node:crypto';

/**
 * A feed's place in its interval: a stable offset in [1, every) derived from the feed id, so
 * feeds that share an interval are spread over it instead of all firing at the same moment, and
 * every replica (and every restart) computes the same schedule. BullMQ's `every` schedulers
 * align runs to `k * every + offset` when an offset is given; 0 would mean "no offset" to BullMQ
 * (run now, then every interval from now), hence the `+ 1`.
 */
export function scheduleOffsetMs(feedId: string, everyMs: number): number {
  if (everyMs <= 1) return 1;
  const hash = createHash('sha256').update(feedId).digest();
  return (hash.readUInt32BE(0) % (everyMs - 1)) + 1;
}

/** The first scheduled run of a feed at or after `atMs`: the next `k * every + offset`. */
export function nextSlotAt(atMs: number, everyMs: number, offsetMs: number): number {
  const aligned = Math.floor((atMs - offsetMs) / everyMs) * everyMs + offsetMs;
  return aligned >= atMs ? aligned : aligned + everyMs;
}
