import { describe, expect, it } from 'vitest';
import { benchClassifier } from './bench.js';

describe('benchClassifier', () => {
  it('reports throughput and compile time', () => {
    const r = benchClassifier({
      items: [
        {
          title: 'US tightens export controls on AI chips to China',
          summary: 'The Commerce Department added HBM to the rules.',
        },
        { title: 'GPU review: a fast card at a fair price', summary: 'It beats last year’s model by 20%.' },
        { title: '海关查获走私冻品', summary: '拱北海关查获一宗走私案。' },
      ],
      seconds: 0.2,
      batchSize: 2000,
    });
    expect(r.items).toBeGreaterThanOrEqual(2000);
    expect(r.itemsPerSecond).toBeGreaterThan(0);
    expect(r.itemsPerCpuSecond).toBeGreaterThan(0);
    // Generous bounds: CI machines are shared; the real figures are in the package README and report.
    expect(r.compileMs).toBeLessThan(1000);
  });

  it('needs items', () => {
    expect(() => benchClassifier({ items: [] })).toThrow(/at least one item/);
  });
});
