import type { SourceCadence } from '@regwatch/store';

/**
 * Fewer gaps than this teach nothing reliable (a source polled for two days has shown one or
 * two gaps): such a source gets no silence alarm yet; `empty` and `failing` still apply.
 */
export const MIN_CADENCE_GAPS = 5;

export interface SilenceThresholds {
  /** Silent when quiet for longer than `multiplier` × the p90 gap… */
  multiplier: number;
  /** …and never sooner than this. */
  floorMs: number;
}

/**
 * Defaults: 4 × p90, at least 6 h. The p90 gap already covers a source's usual irregularity
 * (a weekday publisher's weekend gap, a holiday); four of those in a row without anything new is
 * far outside what the history shows, and rare enough not to cry wolf. The floor keeps a source
 * that publishes in quick bursts (p90 of minutes) from alarming over an ordinary quiet night.
 */
export const DEFAULT_SILENCE: SilenceThresholds = { multiplier: 4, floorMs: 6 * 3600_000 };

/** Nearest-rank percentile of sorted values (q in (0, 1]). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * Learns a source's cadence from the times the poller found new items (epoch ms, any order).
 * Several new items found by one poll are one arrival: the gaps are between polls that found
 * something, so they measure the source, not the size of its batches.
 * @returns undefined while fewer than {@link MIN_CADENCE_GAPS} gaps are known.
 */
export function learnCadence(
  arrivalsMs: readonly number[],
  thresholds: SilenceThresholds = DEFAULT_SILENCE,
): SourceCadence | undefined {
  const times = [...new Set(arrivalsMs.filter(Number.isFinite))].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(times[i]! - times[i - 1]!);
  if (gaps.length < MIN_CADENCE_GAPS) return undefined;
  gaps.sort((a, b) => a - b);
  const p90Ms = percentile(gaps, 0.9);
  return {
    gaps: gaps.length,
    p50Ms: percentile(gaps, 0.5),
    p90Ms,
    silentAfterMs: silentAfterMs(p90Ms, thresholds),
  };
}

/** How long a source with this p90 gap may stay quiet: max(multiplier × p90, floor). */
export function silentAfterMs(p90Ms: number, thresholds: SilenceThresholds): number {
  return Math.max(thresholds.multiplier * p90Ms, thresholds.floorMs);
}

/** `3 days`, `7 h`, `45 min`: a duration as an operator reads it. */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(ms / 3600_000);
  if (hours < 48) return `${hours} h`;
  const days = Math.round(ms / 86_400_000);
  return `${days} days`;
}
