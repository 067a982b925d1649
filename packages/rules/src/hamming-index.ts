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
 *
 * Template-like text crowds the buckets (the bench's stories: ~800 slots compared per query at
 * 20,000 remembered), so the compare loop is the cost: band values up to 16 bits index a plain
 * array of buckets instead of a Map, and the one-bit probes are skipped when the own-value lookups
 * already found a slot closer than the number of bands (every slot that close shares a band value
 * with the query exactly, so it was among them).
 */
export class HammingIndex {
  readonly capacity: number;
  readonly maxDistance: number;
  private readonly his: Uint32Array;
  private readonly los: Uint32Array;
  private readonly bands: ReadonlyArray<{ offset: number; width: number }>;
  /** Bits a band may differ by and still be looked up (0 or 1). */
  private readonly radius: number;
  /** One table per band: band value → slots holding it (an array when bands are at most 16 bits). */
  private readonly buckets: Array<Map<number, number[]>> | undefined;
  private readonly tables: Array<Array<number[] | undefined>> | undefined;
  /** The query's band values (scratch of {@link nearest}). */
  private readonly values: Uint32Array;
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
    this.values = new Uint32Array(count);
    if (bands.every((band) => band.width <= 16)) {
      this.tables = bands.map((band) => new Array<number[] | undefined>(1 << band.width).fill(undefined));
    } else {
      this.buckets = bands.map(() => new Map<number, number[]>());
    }
  }

  private bucketOf(band: number, value: number): number[] | undefined {
    return this.tables !== undefined ? this.tables[band]![value] : this.buckets![band]!.get(value);
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
    const bands = this.bands;
    if (this.count === this.capacity) {
      const oldHi = this.his[slot]!;
      const oldLo = this.los[slot]!;
      for (let b = 0; b < bands.length; b++) {
        const band = bands[b]!;
        const value = bandValue(oldHi, oldLo, band.offset, band.width);
        const bucket = this.bucketOf(b, value);
        if (bucket === undefined) continue;
        // Buckets are short (a few slots): find, swap with the last, drop the last.
        const at = bucket.indexOf(slot);
        if (at >= 0) {
          bucket[at] = bucket[bucket.length - 1]!;
          bucket.pop();
        }
        if (bucket.length === 0) {
          if (this.tables !== undefined) this.tables[b]![value] = undefined;
          else this.buckets![b]!.delete(value);
        }
      }
    }
    const h = hi >>> 0;
    const l = lo >>> 0;
    this.his[slot] = h;
    this.los[slot] = l;
    for (let b = 0; b < bands.length; b++) {
      const band = bands[b]!;
      const value = bandValue(h, l, band.offset, band.width);
      const bucket = this.bucketOf(b, value);
      if (bucket !== undefined) bucket.push(slot);
      else if (this.tables !== undefined) this.tables[b]![value] = [slot];
      else this.buckets![b]!.set(value, [slot]);
    }
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
    const bands = this.bands;
    const his = this.his;
    const los = this.los;
    const capacity = this.capacity;
    const newest = this.next - 1 + capacity;
    let best = -1;
    let bestDistance = this.maxDistance + 1;
    let bestAge = capacity;
    // Probe -1 is a band's own value, probe k flips bit k. All bands' own values first: a slot fewer
    // bits away than there are bands matches one of them exactly, so once one that close is found,
    // the one-bit probes cannot find a closer one, nor an equally close newer one.
    const values = this.values;
    for (let b = 0; b < bands.length; b++) values[b] = bandValue(h, l, bands[b]!.offset, bands[b]!.width);
    const probes = this.radius === 0 ? 0 : bands[0]!.width;
    for (let probe = -1; probe < probes; probe++) {
      if (probe === 0 && bestDistance < bands.length) break;
      for (let b = 0; b < bands.length; b++) {
        if (probe >= bands[b]!.width) continue;
        const value = values[b]!;
        const bucket = this.bucketOf(b, probe < 0 ? value : (value ^ (1 << probe)) >>> 0);
        if (bucket === undefined) continue;
        for (let k = 0; k < bucket.length; k++) {
          const slot = bucket[k]!;
          const distance = popcount32((h ^ his[slot]!) >>> 0) + popcount32((l ^ los[slot]!) >>> 0);
          if (distance > bestDistance) continue;
          // 0 = the newest slot.
          const age = (newest - slot) % capacity;
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
