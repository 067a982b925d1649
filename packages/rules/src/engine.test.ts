import { type Classification, ClassificationSchema, type ClassifyInput } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { compileRules } from './engine.js';
import { loadRules, parseRules } from './taxonomy.js';

const engine = compileRules(loadRules());

function classify(title: string, summary = '', watchTerms?: string[]): Classification {
  const c = engine.classify({ title, summary }, watchTerms ? { watchTerms } : undefined);
  // Every result must satisfy the shared contract, evidence offsets included.
  ClassificationSchema.parse(c);
  for (const e of c.evidence) expect(e.text).toBe((e.field === 'title' ? title : summary).slice(e.start, e.end));
  return c;
}

const rulesOf = (c: Classification, kind?: string) =>
  c.evidence.filter((e) => kind === undefined || e.kind === kind).map((e) => e.rule);

describe('engine: entities and aliases', () => {
  it('maps agency aliases to one canonical name and its jurisdiction', () => {
    for (const name of ['Commerce Department', 'Bureau of Industry and Security', 'BIS']) {
      const c = classify(`${name} adds 30 Chinese firms to the Entity List`);
      expect(c.entities).toContain('BIS');
      expect(c.jurisdictions).toEqual(['CN', 'US']);
      expect(c.topics).toEqual(['export_controls']);
    }
    expect(classify('商务部公布不可靠实体清单').entities).toContain('MOFCOM');
    expect(classify('海关总署发布通告').entities).toContain('GACC');
    expect(classify('英伟达H20芯片').entities).toEqual(['NVIDIA', 'H20']);
  });

  it('does not take "bis" or "us" in lower case for the agency or the country', () => {
    const c = classify('Let us export the bis report to CSV');
    expect(c.entities).not.toContain('BIS');
    expect(c.jurisdictions).not.toContain('US');
    expect(c.flagged).toBe(false);
  });
});

describe('engine: negative contexts', () => {
  it.each([
    ['Wedding customs around the world', 'From henna nights to tea ceremonies, each culture keeps its own traditions.'],
    ['How to export a Blender scene as glTF', 'Choose File > Export and pick glTF 2.0 to export meshes and materials.'],
    [
      'NCAA sanctions hit the football program',
      'The coach received a show-cause order and the team lost scholarships.',
    ],
    ['HTTP request smuggling explained', 'Front-end proxies and back-end servers disagree on request boundaries.'],
    ['Energy firm cuts its fixed tariff', 'Households on the standard variable tariff pay more per kWh this winter.'],
    ['Your mobile tariff is going up in April', 'Networks add a mid-contract price rise to SIM-only plans every year.'],
    ['Living with seizures: a patient guide', 'Epilepsy medication can reduce seizures; talk to your doctor.'],
    ['Entity Framework Core adds bulk updates', 'The new API updates entities without loading them.'],
    ['China exports rose 6% in May, customs data show', 'Imports fell as domestic demand stayed weak.'],
    [
      'Immigration and Customs Enforcement posts a paperwork notice',
      'ICE seeks comments on an information collection.',
    ],
    [
      'Export-Import Bank approves a loan for a solar farm',
      'The Export-Import Bank of the United States backs the project.',
    ],
    [
      'Judge sanctions lawyers over fake AI citations',
      'The court fined the attorneys for citing cases that do not exist.',
    ],
  ])('stays quiet on %s', (title, summary) => {
    const c = classify(title, summary);
    expect(c.flagged).toBe(false);
    expect(c.severity).toBe('info');
    expect(c.topics).toEqual([]);
  });

  it('records what cut a term as negative evidence', () => {
    const c = classify(
      'Japanese customs every visitor should know',
      'Bow when greeting and remove your shoes indoors.',
    );
    expect(c.evidence.some((e) => e.kind === 'negative' && e.target === 'customs_enforcement')).toBe(true);
    const neutral = classify('HTTP request smuggling in the wild');
    expect(rulesOf(neutral, 'negative')).toContain('neutral:request-smuggling');
  });

  it('still flags sanctions in court when a sanctions regime is named', () => {
    const c = classify(
      'Court upholds OFAC sanctions on Russian oligarch',
      'The judge rejected the challenge to the Treasury designation.',
    );
    expect(c.flagged).toBe(true);
    expect(c.topics).toContain('sanctions');
  });
});

describe('engine: proximity', () => {
  it('flags "customs" near a seizure or inspection, not on its own', () => {
    expect(classify('Customs seize counterfeit chips at the port of Rotterdam').topics).toContain(
      'customs_enforcement',
    );
    expect(classify('Customs officers step up inspections of battery shipments').flagged).toBe(true);
    expect(classify('Customs', 'A short film about customs').flagged).toBe(false);
  });

  it('treats "tariff" as trade only with trade or price context', () => {
    expect(classify('Tariffs push up console prices', 'Nintendo blamed import costs.').topics).toEqual([
      'tariffs_trade_remedies',
    ]);
    expect(classify('Tariff-free shipping this weekend').flagged).toBe(false);
  });
});

describe('engine: co-occurrence', () => {
  it('flags a control verb near "exports" and a chip story with a government actor', () => {
    const c = classify('Beijing curbs exports of graphite', 'The ministry said licences will be needed for shipments.');
    expect(c.topics).toContain('export_controls');
    expect(rulesOf(c)).toContain('combo:restrict-exports');
  });

  it('does not flag chips or "exports" alone', () => {
    expect(classify('Nvidia ships a faster AI chip', 'The new GPU doubles inference performance.').flagged).toBe(false);
    expect(classify('Exports of wine grew last year', 'Producers sold more bottles abroad.').flagged).toBe(false);
  });

  it('reads chip smuggling as an export-control story too', () => {
    const c = classify(
      'Two men charged with smuggling GPUs to China',
      'Prosecutors say they hid the chips in shipments of toys.',
    );
    expect(c.topics).toEqual(expect.arrayContaining(['smuggling', 'export_controls']));
  });

  it('reads a government telling firms not to buy chips as an import restriction', () => {
    const c = classify(
      'Chinese customs now inspect every semiconductor shipment to stop NVIDIA H20 and RTX 6000D imports',
      'Tencent, ByteDance and Alibaba were told to cancel orders, regulators said.',
    );
    expect(c.flagged).toBe(true);
    expect(c.topics).toEqual(expect.arrayContaining(['customs_enforcement', 'import_restrictions']));
    expect(c.jurisdictions).toEqual(['CN']);
    expect(c.entities).toEqual(expect.arrayContaining(['NVIDIA', 'H20', 'RTX 6000D']));
    expect(c.severity).toBe('critical');
  });
});

describe('engine: CJK, full width and accents', () => {
  it('matches simplified and traditional Chinese without word boundaries', () => {
    const simplified = classify('海关查获走私冻品10吨', '拱北海关在跨境货车中查获走私冻肉。');
    const traditional = classify('海關查獲走私凍品10噸', '拱北海關在跨境貨車中查獲走私凍肉。');
    for (const c of [simplified, traditional]) {
      expect(c.topics).toEqual(expect.arrayContaining(['smuggling', 'customs_enforcement']));
      expect(c.jurisdictions).toEqual(['CN']);
    }
  });

  it('flags Chinese, Japanese and Korean export-control vocabulary', () => {
    expect(classify('商务部：对镓、锗相关物项实施出口管制').topics).toContain('export_controls');
    expect(classify('美国将多家中国企业列入实体清单').jurisdictions).toEqual(['CN', 'US']);
    expect(classify('経済産業省、半導体製造装置の輸出規制を強化').topics).toContain('export_controls');
    expect(classify('미국, 대중국 반도체 수출 통제 강화').jurisdictions).toEqual(['CN', 'US']);
  });

  it('matches full-width Latin and quotes the original characters', () => {
    const c = classify('ＵＳ ＥＸＰＯＲＴ ＣＯＮＴＲＯＬＳ on chips');
    expect(c.flagged).toBe(true);
    expect(c.evidence.find((e) => e.rule === 'term:export control*')?.text).toBe('ＥＸＰＯＲＴ ＣＯＮＴＲＯＬＳ');
  });

  it('matches accented and unaccented European terms alike', () => {
    expect(classify('Neue Ausfuhrbeschränkungen für Halbleiter').topics).toContain('export_controls');
    expect(classify('Neue Ausfuhrbeschrankungen fur Halbleiter').topics).toContain('export_controls');
    expect(classify('Contrôles à l’exportation renforcés').topics).toContain('export_controls');
  });
});

describe('engine: evidence offsets', () => {
  it('points into the original text, even after multi-unit folding', () => {
    const title = '🚢 Ｆｕｌｌ‐width “Section 301” tariffs on Chinese steel';
    const c = classify(title);
    const ev = c.evidence.find((e) => e.rule === 'term:section 301');
    expect(ev).toMatchObject({ field: 'title', text: 'Section 301' });
    expect(title.slice(ev!.start, ev!.end)).toBe('Section 301');
  });
});

describe('engine: watch terms', () => {
  it('raises severity one step on a flagged item and shows up as evidence', () => {
    const base = classify('EU imposes anti-dumping duties on Chinese steel wire');
    const watched = classify('EU imposes anti-dumping duties on Chinese steel wire', '', ['steel wire', 'Acme']);
    expect(base.flagged).toBe(true);
    const order = ['info', 'notice', 'high', 'critical'];
    expect(order.indexOf(watched.severity)).toBe(Math.min(3, order.indexOf(base.severity) + 1));
    expect(watched.evidence).toContainEqual(expect.objectContaining({ kind: 'watch', text: 'steel wire', weight: 0 }));
  });

  it('never flags on a watch term alone', () => {
    const c = classify('Acme Corp opens a new office in Berlin', '', ['Acme']);
    expect(c.flagged).toBe(false);
    expect(c.severity).toBe('info');
    expect(rulesOf(c, 'watch')).toEqual(['watch:Acme']);
  });

  it('caches per distinct list and honours word boundaries', () => {
    const list = ['H20'];
    expect(rulesOf(classify('Water is H2O, not H200', '', list), 'watch')).toEqual([]);
    expect(rulesOf(classify('Nvidia H20 orders cancelled', '', list), 'watch')).toEqual(['watch:H20']);
  });
});

describe('engine: scoring and output', () => {
  it('maps the threshold to score 0.5 and orders severities by strength', () => {
    const weak = classify('Customs', 'nothing else');
    expect(weak.score).toBeLessThan(0.5);
    const strong = classify(
      'US expands export controls on AI chips to China',
      'The Commerce Department added 140 entities to the Entity List and tightened licence requirements for HBM.',
    );
    expect(strong.score).toBeGreaterThan(0.8);
    expect(['high', 'critical']).toContain(strong.severity);
  });

  it('stamps the rules version and is deterministic', () => {
    const input: ClassifyInput = { title: 'OFAC designates Iranian drone suppliers', summary: '' };
    expect(engine.classify(input)).toEqual(engine.classify(input));
    expect(engine.classify(input).rulesVersion).toBe(engine.version);
  });

  it('accepts a minimal taxonomy', () => {
    const tiny = compileRules(
      parseRules({
        version: 't1',
        settings: { flagThreshold: 1, topicThreshold: 1, highScore: 2 },
        groups: {},
        topics: { smuggling: { terms: [{ term: 'smuggl*', weight: 1 }] } },
        jurisdictions: {},
      }),
    );
    expect(tiny.classify({ title: 'Smugglers caught' })).toMatchObject({
      flagged: true,
      topics: ['smuggling'],
      rulesVersion: 't1',
    });
  });
});
