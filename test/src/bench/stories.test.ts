import { compileRules, hammingDistance, loadRules, parseStoryId } from '@regwatch/rules';
import { describe, expect, it } from 'vitest';
import { createStorySource } from './stories.js';

describe('createStorySource', () => {
  it('writes flag-worthy stories that the classifier keeps apart', () => {
    const engine = compileRules(loadRules());
    const source = createStorySource(3, engine);
    const stories = [...source.take(150), ...source.take(150)];
    const hashes = stories.map((s) => {
      const c = engine.classify(s);
      expect(c.flagged, s.title).toBe(true);
      return parseStoryId(c.storyId)!;
    });
    // The classifier joins items within 8 bits into one story; every pair must be further apart.
    let closest = 64;
    for (let i = 0; i < hashes.length; i++)
      for (let j = i + 1; j < hashes.length; j++) closest = Math.min(closest, hammingDistance(hashes[i]!, hashes[j]!));
    expect(closest).toBeGreaterThan(8);
  });
});
