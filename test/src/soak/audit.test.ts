import { describe, expect, it } from 'vitest';
import { keyClass } from './audit.js';
import { redisVerdict } from './verdict.js';

describe('soak key classes', () => {
  it('cuts ids off regwatch state keys and BullMQ job keys', () => {
    expect(keyClass('{soak}:delivery:d-1f2e')).toBe('delivery');
    expect(keyClass('{soak}:seen:2026-48')).toBe('seen');
    expect(keyClass('{soak}:items:1234')).toBe('items jobs');
    expect(keyClass('{soak}:deliveries:d-1f2e')).toBe('deliveries jobs');
    expect(keyClass('{soak}:items:completed')).toBe('items:completed');
    expect(keyClass('{soak}:items:1234:lock')).toBe('items job lock');
    expect(keyClass('{soak}:polls:repeat:abc:1700000000000')).toBe('polls:repeat');
    expect(keyClass('other:key')).toBe('(outside the prefix) other');
  });
});

describe('redisVerdict', () => {
  const at = (delivered: number, usedMemory: number) => ({ delivered, usedMemory });
  it('is flat when growth per item levels off or holds, and not when it rises', () => {
    // 5 kB per item throughout (time-retained state): not rising.
    const linear = [0, 1, 2, 3, 4, 5, 6].map((k) => at(k * 5000 + 1, k * 25_000_000));
    expect(redisVerdict(linear).isFlat).toBe(true);
    // Caps reached: growth stops.
    const capped = [at(1, 0), at(5000, 40e6), at(10000, 60e6), at(15000, 61e6), at(20000, 61e6)];
    expect(redisVerdict(capped).isFlat).toBe(true);
    // Growth per item doubling in the last third: something accumulates.
    const rising = [at(1, 0), at(10000, 10e6), at(20000, 20e6), at(30000, 30e6), at(40000, 50e6), at(50000, 80e6)];
    const v = redisVerdict(rising);
    expect(v.isFlat).toBe(false);
    expect(v.last).toBeGreaterThan(v.middle * 1.15);
    expect(redisVerdict([at(1, 0)]).isFlat).toBe(false);
  });
});
