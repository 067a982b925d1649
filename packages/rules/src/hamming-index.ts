/**
 * Finds, among up to `capacity` remembered 64-bit hashes (as two unsigned 32-bit halves), the one
 * nearest to a query within `maxDistance` differing bits — without comparing against all of them.
 *
 * Pigeonhole (multi-index hashing): split the 64 bits into m bands; two hashes at most d bits
 * apart differ in at most ⌊d/m⌋ bits of at least one band. With m = ⌊d/2⌋ + 1 that is at most one
 * bit, so a query looks up, in each band, its own band value and the values one bit away. Each band
 * keeps a bucket of slots per band value; only the slots found are compared. At the classifier's
 * distance of 8 that is five bands of 12–13 bits, 69 lookups and a few hundred comparisons
 * instead of 20,000.
 *
 * Slots are a ring: remembering into a full index overwrites the oldest slot, which leaves its
 * buckets. Ties go to the newest slot, as a newest-first scan that keeps the first best would.
 */
export class HammingIndex {
  readonly capacity: number;
  readonly maxDistance: number;
  private readonly his: Uint32Array;
  private readonly los: Uint32Array;
  private readonly bands: ReadonlyArray<{ offset: number; width: number }>;
  /** Bits a band may differ by and still be looked up (0 or 1). */
  private readonly radius: number;
  /** One map per band: band value → slots holding it. */
  private readonly buckets: Array<Map<number, number[]>>;
  private next = 0;
  private count = 0;

  constructor(capacity: number, maxDistance: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > 63) {
      throw new RangeError(`maxDistance must be an integer from 0 to 63, got ${maxDistance}`);
    }
    this.capacity = capacity;
    this.maxDistance = maxDistance;
    this.his = new Uint32Array(capacity);
    this.los = new Uint32Array(capacity);
    // As even as 64 bits allow; at least two, so none is wider than 32 bits (one band value is one number).
    const count = Math.max(2, Math.floor(maxDistance / 2) + 1);
    this.radius = Math.floor(maxDistance / count);
    const bands: Array<{ offset: number; width: number }> = [];
    let offset = 0;
    for (let b = 0; b < count; b++) {
      const width = Math.floor(64 / count) + (b < 64 % count ? 1 : 0);
      bands.push({ offset, width });
      offset += width;
    }
    this.bands = bands;
    this.buckets = bands.map(() => new Map<number, number[]>());
  }

  /** Slots in use. */
  get size(): number {
    return this.count;
  }

  /** The slot the next {@link add} writes to. */
  get nextSlot(): number {
    return this.next;
  }

  /** The hash in a slot. */
  hashOf(slot: number): { hi: number; lo: number } {
    return { hi: this.his[slot]!, lo: this.los[slot]! };
  }

  /** Remembers a hash in the next slot (overwriting the oldest when full); returns the slot. */
  add(hi: number, lo: number): number {
    const slot = this.next;
    if (this.count === this.capacity) {
      const oldHi = this.his[slot]!;
      const oldLo = this.los[slot]!;
      this.bands.forEach((band, b) => {
        const value = bandValue(oldHi, oldLo, band.offset, band.width);
        const bucket = this.buckets[b]!.get(value);
        if (bucket === undefined) return;
        // Buckets are short (a few slots): find, swap with the last, drop the last.
        const at = bucket.indexOf(slot);
        if (at >= 0) {
          bucket[at] = bucket[bucket.length - 1]!;
          bucket.pop();
        }
        if (bucket.length === 0) this.buckets[b]!.delete(value);
      });
    }
    this.his[slot] = hi >>> 0;
    this.los[slot] = lo >>> 0;
    this.bands.forEach((band, b) => {
      const value = bandValue(hi >>> 0, lo >>> 0, band.offset, band.width);
      const map = this.buckets[b]!;
      const bucket = map.get(value);
      if (bucket) bucket.push(slot);
      else map.set(value, [slot]);
    });
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    return slot;
  }

  /**
   * The nearest remembered slot within `maxDistance` bits that `accept` lets through (e.g. not
   * past a time window), ties to the newest; undefined when there is none.
   */
  nearest(
    hi: number,
    lo: number,
    accept: (slot: number) => boolean = () => true,
  ): { slot: number; distance: number } | undefined {
    const h = hi >>> 0;
    const l = lo >>> 0;
    let best = -1;
    let bestDistance = this.maxDistance + 1;
    let bestAge = this.capacity;
    const his = this.his;
    const los = this.los;
    for (let b = 0; b < this.bands.length; b++) {
      const band = this.bands[b]!;
      const map = this.buckets[b]!;
      const value = bandValue(h, l, band.offset, band.width);
      const probes = this.radius === 0 ? 0 : band.width;
      // Probe -1 is the band's own value; probe k flips bit k.
      for (let probe = -1; probe < probes; probe++) {
        const bucket = map.get(probe < 0 ? value : (value ^ (1 << probe)) >>> 0);
        if (bucket === undefined) continue;
        for (let k = 0; k < bucket.length; k++) {
          const slot = bucket[k]!;
          const distance = popcount32((h ^ his[slot]!) >>> 0) + popcount32((l ^ los[slot]!) >>> 0);
          if (distance > bestDistance) continue;
          // 0 = the newest slot.
          const age = (this.next - 1 - slot + this.capacity) % this.capacity;
          // Equal to the starting bestDistance is past the limit; equal to a best found is a tie the newer wins.
          if (distance === bestDistance && (best < 0 || age >= bestAge)) continue;
          if (!accept(slot)) continue;
          best = slot;
          bestDistance = distance;
          bestAge = age;
        }
      }
    }
    return best >= 0 ? { slot: best, distance: bestDistance } : undefined;
  }
}

/** `width` bits of the 64-bit value (hi:lo) starting at bit `offset` from the low end. */
function bandValue(hi: number, lo: number, offset: number, width: number): number {
  let value: number;
  if (offset >= 32) value = hi >>> (offset - 32);
  else if (offset + width <= 32) value = lo >>> offset;
  else value = ((lo >>> offset) | (hi << (32 - offset))) >>> 0;
  return width >= 32 ? value >>> 0 : (value & ((1 << width) - 1)) >>> 0;
}

export function popcount32(x: number): number {
  let n = x - ((x >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (Math.imul((n + (n >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
