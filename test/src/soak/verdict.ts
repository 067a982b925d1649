/**
 * Redis growth per delivered item in the middle and the last third of the run: flat when the last
 * is not above the middle (+15 % for noise). Growth that does not level off (the last third costing
 * more per item than the middle) means something accumulates beyond its retention or cap.
 */
export function redisVerdict(samples: readonly { delivered: number; usedMemory: number }[]): {
  middle: number;
  last: number;
  isFlat: boolean;
} {
  const usable = samples.filter((s) => s.delivered > 0);
  const at = (f: number) => usable[Math.min(usable.length - 1, Math.round(f * (usable.length - 1)))]!;
  const per = (a: (typeof usable)[number], b: (typeof usable)[number]) =>
    (b.usedMemory - a.usedMemory) / Math.max(1, b.delivered - a.delivered);
  if (usable.length < 4) return { middle: Number.NaN, last: Number.NaN, isFlat: false };
  const middle = per(at(1 / 3), at(2 / 3));
  const last = per(at(2 / 3), at(1));
  return { middle, last, isFlat: last <= middle * 1.15 + 50 };
}
