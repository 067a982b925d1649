import { describe, expect, it } from 'vitest';
import { HammingIndex, popcount32 } from './hamming-index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 12;
    return s >>> 0;
  };
}

/** What the index must agree with: every remembered hash, newest first, the first best kept. */
function scan(
  hashes: Array<[number, number]>,
  capacity: number,
  hi: number,
  lo: number,
  maxDistance: number,
  accept: (i: number) => boolean,
): { index: number; distance: number } | undefined {
  let best: { index: number; distance: number } | undefined;
  for (let i = hashes.length - 1; i >= Math.max(0, hashes.length - capacity); i--) {
    const [h, l] = hashes[i]!;
    const d = popcount32((hi ^ h) >>> 0) + popcount32((lo ^ l) >>> 0);
    if (d > maxDistance || !accept(i)) continue;
    if (best === undefined || d < best.distance) best = { index: i, distance: d };
  }
  return best;
}

/** Flips `bits` distinct random bits of (hi, lo). */
function flip(hi: number, lo: number, bits: number, next: () => number): [number, number] {
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(next() % 64);
  let h = hi;
  let l = lo;
  for (const b of chosen) {
    if (b < 32) l = (l ^ (1 << b)) >>> 0;
    else h = (h ^ (1 << (b - 32))) >>> 0;
  }
  return [h, l];
}

describe('HammingIndex', () => {
  for (const maxDistance of [0, 3, 8, 15]) {
    it(`finds what a full scan finds (distance ${maxDistance}, ring overwritten, filtered)`, () => {
      const next = rng(maxDistance + 1);
      const capacity = 300;
      const index = new HammingIndex(capacity, maxDistance);
      const hashes: Array<[number, number]> = [];
      let found = 0;
      for (let n = 0; n < 2000; n++) {
        // Half the queries are near an earlier hash (some exactly on the limit, some past it).
        const query: [number, number] =
          hashes.length > 0 && n % 2 === 0
            ? flip(...hashes[next() % hashes.length]!, next() % (maxDistance + 3), next)
            : [next(), next()];
        const accept = (i: number) => i % 7 !== 3;
        const slotOf = (i: number) => i % capacity;
        const expected = scan(hashes, capacity, query[0], query[1], maxDistance, accept);
        const got = index.nearest(query[0], query[1], (slot) => {
          // Slot → the hash index it holds now (the newest one written there).
          const i = hashes.length - 1 - ((index.nextSlot - 1 - slot + capacity) % capacity);
          return accept(i);
        });
        if (expected === undefined) expect(got).toBeUndefined();
        else {
          found++;
          expect(got).toEqual({ slot: slotOf(expected.index), distance: expected.distance });
        }
        hashes.push(query);
        index.add(query[0], query[1]);
      }
      expect(found).toBeGreaterThan(100);
      expect(index.size).toBe(capacity);
    });
  }

  it('finds what a full scan finds when buckets are crowded and ties are many (template-like text)', () => {
    // Hashes a few bits from a handful of templates: many slots per band value, many equal distances,
    // so the own-value pass often finds a close slot and the one-bit probes are skipped.
    const next = rng(42);
    const capacity = 500;
    const index = new HammingIndex(capacity, 8);
    const templates = Array.from({ length: 4 }, () => [next(), next()] as [number, number]);
    const hashes: Array<[number, number]> = [];
    let close = 0;
    for (let n = 0; n < 3000; n++) {
      const query = flip(...templates[next() % templates.length]!, next() % 12, next);
      const accept = (i: number) => i % 5 !== 1;
      const expected = scan(hashes, capacity, query[0], query[1], 8, accept);
      const got = index.nearest(query[0], query[1], (slot) =>
        accept(hashes.length - 1 - ((index.nextSlot - 1 - slot + capacity) % capacity)),
      );
      if (expected === undefined) expect(got).toBeUndefined();
      else {
        if (expected.distance < 5) close++;
        expect(got).toEqual({ slot: expected.index % capacity, distance: expected.distance });
      }
      hashes.push(query);
      index.add(query[0], query[1]);
    }
    expect(close).toBeGreaterThan(500);
  });

  it('breaks ties toward the newest', () => {
    const index = new HammingIndex(10, 8);
    index.add(0xffff0000, 0x0000ffff);
    const newer = index.add(0xffff0000, 0x0000ffff);
    expect(index.nearest(0xffff0000, 0x0000fffe)).toEqual({ slot: newer, distance: 1 });
  });

  it('forgets what the ring overwrote', () => {
    const index = new HammingIndex(2, 8);
    index.add(1, 1);
    index.add(0x12345678, 0x9abcdef0);
    index.add(0x0f0f0f0f, 0xf0f0f0f0); // overwrites (1, 1)
    expect(index.nearest(1, 1)).toBeUndefined();
    expect(index.nearest(0x12345678, 0x9abcdef0)?.distance).toBe(0);
  });

  it('refuses sizes it cannot index', () => {
    expect(() => new HammingIndex(0, 8)).toThrow(/capacity/);
    expect(() => new HammingIndex(10, 64)).toThrow(/maxDistance/);
  });
});
