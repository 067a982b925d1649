import { fileURLToPath } from 'node:url';
import type { IdentifierKind } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { compileRules } from './engine.js';
import { readLabelledJsonl } from './eval.js';
import { extractIdentifiers, MAX_IDENTIFIERS, parseDateText } from './identifiers.js';
import { loadRules } from './taxonomy.js';

type Expect = Array<[IdentifierKind, string]>;

/** [text (as a summary), identifiers it must yield (kind, normalized value), in reading order]. */
const POSITIVE: Array<[string, Expect]> = [
  // ECCNs, in several languages.
  ['BIS adds ECCN 3A090 to the list.', [['eccn', '3A090']]],
  ['Items under 4A090.a need a licence.', [['eccn', '4A090.a']]],
  ['Encryption items in 5A992.c are eased.', [['eccn', '5A992.c']]],
  ['0A919 covers military commodities made abroad.', [['eccn', '0A919']]],
  [
    'The 9x515 and 600-series items such as 3A611 stay controlled.',
    [
      ['eccn', '9x515'],
      ['eccn', '3A611'],
    ],
  ],
  ['Most consumer goods are EAR99.', [['eccn', 'EAR99']]],
  [
    'Controls on 3A001.a.1 and 3A090.b apply.',
    [
      ['eccn', '3A001.a.1'],
      ['eccn', '3A090.b'],
    ],
  ],
  [
    'ECCNs 3A090/4A090 were revised.',
    [
      ['eccn', '3A090'],
      ['eccn', '4A090'],
    ],
  ],
  ['Chips classified 3A090.A must be licensed.', [['eccn', '3A090.a']]],
  [
    'The rule amends 5D002 and 5E002.',
    [
      ['eccn', '5D002'],
      ['eccn', '5E002'],
    ],
  ],
  ['美国商务部将3A090物项的管制扩大至更多国家。', [['eccn', '3A090']]],
  [
    '出口管制分类编号为4A090、3A090的物项需要许可证。',
    [
      ['eccn', '4A090'],
      ['eccn', '3A090'],
    ],
  ],
  ['米商務省はECCN 3A090の規制を強化した。', [['eccn', '3A090']]],
  ['미국은 ECCN 3A090 품목에 대한 수출 통제를 강화했다.', [['eccn', '3A090']]],
  ['Die Ausfuhr von Gütern der ECCN 3A090 ist genehmigungspflichtig.', [['eccn', '3A090']]],
  ['Les articles classés 5A002 sont soumis à licence.', [['eccn', '5A002']]],
  ['Los artículos 3A090 requieren licencia.', [['eccn', '3A090']]],
  ['Spacecraft parts under 9A515.a are covered.', [['eccn', '9A515.a']]],
  [
    'Software 4D994 and technology 4E001 are named.',
    [
      ['eccn', '4D994'],
      ['eccn', '4E001'],
    ],
  ],
  [
    'Is it EAR 99 or 3A991?',
    [
      ['eccn', 'EAR99'],
      ['eccn', '3A991'],
    ],
  ],
  // HS / HTS / CN codes with a context word.
  ['Tariffs on HTS 8541.10.0080 rise.', [['hs', '8541.10.0080']]],
  ['Goods of HS code 8542.31 are affected.', [['hs', '8542.31']]],
  ['The duty applies to HS 8542.', [['hs', '8542']]],
  ['under HTSUS subheading 8471.50.0150', [['hs', '8471.50.0150']]],
  ['Imports under heading 8542 face duties.', [['hs', '8542']]],
  [
    'HTS subheadings 8542.31, 8542.32 and 8542.33 are listed.',
    [
      ['hs', '8542.31'],
      ['hs', '8542.32'],
      ['hs', '8542.33'],
    ],
  ],
  ['Tariff code 8542.31.00 applies.', [['hs', '8542.31.00']]],
  [
    'HS codes: 854231, 854232',
    [
      ['hs', '8542.31'],
      ['hs', '8542.32'],
    ],
  ],
  ['tariff classification 7208.10 for steel', [['hs', '7208.10']]],
  ['Commodity code 8542310000 (CN)', [['hs', '8542.31.0000']]],
  [
    'TARIC code 8542 31 90, or TARIC 8542319000',
    [
      ['hs', '8542.31.90'],
      ['hs', '8542.31.9000'],
    ],
  ],
  ['税则号列8542.3100的商品加征关税。', [['hs', '8542.31.00']]],
  ['商品编码为8542310000的集成电路需申报。', [['hs', '8542.31.0000']]],
  [
    '税号8471、8473项下商品',
    [
      ['hs', '8471'],
      ['hs', '8473'],
    ],
  ],
  ['HS编码：2825.90', [['hs', '2825.90']]],
  ['HSコード8542.31の集積回路', [['hs', '8542.31']]],
  ['HS 코드 8542.31 반도체', [['hs', '8542.31']]],
  [
    'Zolltarifnummer 8542 31 oder Warennummer 85423100',
    [
      ['hs', '8542.31'],
      ['hs', '8542.31.00'],
    ],
  ],
  [
    'Marchandises de la position tarifaire 8542 et du code SH 8541.10',
    [
      ['hs', '8542'],
      ['hs', '8541.10'],
    ],
  ],
  ['Mercancías de la fracción arancelaria 8542.31.01', [['hs', '8542.31.01']]],
  ['heading 2004 (frozen vegetables)', [['hs', '2004']]],
  // CFR citations.
  ['See 15 CFR 744.21 for military end users.', [['cfr', '15 CFR 744.21']]],
  ['Under 15 C.F.R. § 744.21, exports need a licence.', [['cfr', '15 CFR 744.21']]],
  [
    'amending 15 CFR parts 734 and 744',
    [
      ['cfr', '15 CFR 734'],
      ['cfr', '15 CFR 744'],
    ],
  ],
  ['The EAR part 744 lists end-user controls.', [['cfr', '15 CFR 744']]],
  [
    'BIS revised parts 734 and 744 of the EAR.',
    [
      ['cfr', '15 CFR 734'],
      ['cfr', '15 CFR 744'],
    ],
  ],
  ['A new § 744.23 covers supercomputers.', [['cfr', '15 CFR 744.23']]],
  ['OFAC amends 31 CFR 589 (Ukraine-related sanctions).', [['cfr', '31 CFR 589']]],
  ['19 CFR 12.104 governs cultural property.', [['cfr', '19 CFR 12.104']]],
  [
    '15 CFR 744.21, 744.22 and 744.23 are amended.',
    [
      ['cfr', '15 CFR 744.21'],
      ['cfr', '15 CFR 744.22'],
      ['cfr', '15 CFR 744.23'],
    ],
  ],
  ['第15编联邦法规 15 CFR 744 修订', [['cfr', '15 CFR 744']]],
  // Federal Register numbers and citations.
  ['FR Doc. 2025-12345 Filed 1-2-25', [['fr_doc', '2025-12345']]],
  ['Document Number: 2024-01234', [['fr_doc', '2024-01234']]],
  ['The document number is 2025-00017.', [['fr_doc', '2025-00017']]],
  ['Published at 90 FR 12345.', [['fr_citation', '90 FR 12345']]],
  ['See 89 Fed. Reg. 81234 (Oct. 2, 2024).', [['fr_citation', '89 FR 81234']]],
  [
    'FR Doc. 2025-12345 · 90 FR 12345 · 15 CFR 744 · Effective 2025-02-01 · Comments due 2025-03-03',
    [
      ['fr_doc', '2025-12345'],
      ['fr_citation', '90 FR 12345'],
      ['cfr', '15 CFR 744'],
      ['effective_date', '2025-02-01'],
      ['comment_deadline', '2025-03-03'],
    ],
  ],
  // Effective dates.
  ['This rule is effective January 15, 2025.', [['effective_date', '2025-01-15']]],
  ['The changes are effective on 2025-01-15.', [['effective_date', '2025-01-15']]],
  ['Effective 2025-02-01', [['effective_date', '2025-02-01']]],
  ['Effective date: Jan. 3, 2025.', [['effective_date', '2025-01-03']]],
  ['The measures take effect on 1 March 2025.', [['effective_date', '2025-03-01']]],
  ['The regulation enters into force on 12th April 2025.', [['effective_date', '2025-04-12']]],
  ['本公告自2025年12月1日起施行。', [['effective_date', '2025-12-01']]],
  ['该决定自2025年1月1日起实施。', [['effective_date', '2025-01-01']]],
  ['改正省令は2025年4月1日から施行される。', [['effective_date', '2025-04-01']]],
  // Comment deadlines.
  ['Comments must be received by March 3, 2025.', [['comment_deadline', '2025-03-03']]],
  [
    'Written comments on the proposed rule must be received on or before 2025-04-30.',
    [['comment_deadline', '2025-04-30']],
  ],
  ['Comments due: April 7, 2025', [['comment_deadline', '2025-04-07']]],
  ['The comment period closes on May 5, 2025.', [['comment_deadline', '2025-05-05']]],
  ['Submit comments by 14 February 2025.', [['comment_deadline', '2025-02-14']]],
  ['征求意见截止日期为2025年1月31日。', [['comment_deadline', '2025-01-31']]],
  ['请于2025年2月15日前通过邮件反馈意见。', [['comment_deadline', '2025-02-15']]],
];

/** Texts that look like identifiers but are not: none may yield anything. */
const NEGATIVE: string[] = [
  'Call +1 202-482-4811 for the licensing hotline.',
  'Call (202) 482-4811 or 202.482.4811.',
  '商务部电话：010-65197xxx，传真010-65198xxx',
  'The review covers 2025.',
  'Data for 2024-2025 show a rise.',
  'The meeting was held on January 15, 2025.',
  'Published 2025-01-15 at 10:00.',
  'Update to v3.5.2 fixes the bug.',
  'The server at 192.168.10.20 crashed.',
  'The chip costs $8,542.31 wholesale.',
  'ISBN 978-3-16-148410-0 was cited.',
  'NVIDIA RTX 6000D and H20 chips, and the A100, were named.',
  'Tariffs rose 25% on 8542 items.',
  'Shipments rose 8542 units in June.',
  'The ZIP code 20230 is for Commerce.',
  'Case number 2025-12345 was filed in court.',
  'COVID-19 slowed trade in 2020.',
  'Huawei Mate 60 Pro uses the Kirin 9000S.',
  'Revenue of 8471.50 million yuan.',
  'The heading of the article mentions 8542 chips.',
  'HS 2022 nomenclature enters use.',
  'Tariffs on 2025 imports from China rise.',
  '2023年3月15日，海关查获走私冻品。',
  'Part 2 of the report covers chips.',
  'Part 744 of the novel is long.',
  'The 90 fr 12345 lower-case text is not a citation.',
  'Rule 2025-12345 without context.',
  'Room 3-A090 on floor 3, gate A3090.',
  'Item 3a090 in lower case is not read.',
  'Product code XC7-3A100 is an FPGA.',
  'Scientific notation 1e100 and 4E400 values.',
  'A 7A800 part number is not an ECCN (7xx is no regime).',
  'Effective immediately, the ban applies.',
  'Effective communication matters.',
  'Comments from readers are welcome.',
  'The comment period was extended.',
  'Dated February 30, 2025, effective February 30, 2025.',
  'Chapter 8542 of the book.',
  'The EU imposed a 10% tariff on 2,500 products.',
  'SKU 85423100 in the catalogue.',
  '价格为8542.31元。',
  '编号8542310000的合同',
  'Version 15.2 CFR? No, it is CFR 2.0 release.',
  'A new § 12.3 in the bylaws.',
  'Intel Xeon 6 6900P and AMD MI300X accelerators.',
];

describe('extractIdentifiers: table', () => {
  it('has enough cases', () => {
    expect(POSITIVE.length).toBeGreaterThanOrEqual(60);
    expect(NEGATIVE.length).toBeGreaterThanOrEqual(40);
  });

  for (const [text, want] of POSITIVE) {
    it(`finds ${want.map(([k, v]) => `${k} ${v}`).join(', ')} in ${JSON.stringify(text.slice(0, 60))}`, () => {
      const got = extractIdentifiers('', text);
      expect(got.map((i) => [i.kind, i.value])).toEqual(want);
      // Offsets quote the text as written.
      for (const i of got) expect(text.slice(i.start, i.end)).toBe(i.text);
    });
  }

  for (const text of NEGATIVE) {
    it(`finds nothing in ${JSON.stringify(text.slice(0, 60))}`, () => {
      expect(extractIdentifiers('', text)).toEqual([]);
    });
  }
});

describe('extractIdentifiers: fields, sources, limits', () => {
  it('reads the title and the summary, once per kind and value, title first', () => {
    const got = extractIdentifiers('BIS controls 3A090 chips', 'The rule on 3A090 and 4A090 (15 CFR 744.21).');
    expect(got.map((i) => [i.field, i.kind, i.value, i.start])).toEqual([
      ['title', 'eccn', '3A090', 13],
      ['summary', 'eccn', '4A090', 22],
      ['summary', 'cfr', '15 CFR 744.21', 29],
    ]);
  });

  it('reads a bare document number only from a Federal Register source', () => {
    const text = 'Rule 2025-12345: entity list additions.';
    expect(extractIdentifiers(text, '')).toEqual([]);
    const fr = extractIdentifiers(text, '', {
      url: 'https://www.federalregister.gov/documents/2025/01/02/2025-12345/x',
    });
    expect(fr.map((i) => [i.kind, i.value, i.text])).toEqual([['fr_doc', '2025-12345', '2025-12345']]);
    expect(extractIdentifiers(text, '', { url: 'https://federalregister.gov.evil.example/x' })).toEqual([]);
  });

  it('keeps UTF-16 offsets across astral characters', () => {
    const summary = '😀 ECCN 3A090 😀 HS 8542.31';
    const got = extractIdentifiers('', summary);
    expect(got.map((i) => summary.slice(i.start, i.end))).toEqual(['3A090', '8542.31']);
  });

  it(`stops at ${MAX_IDENTIFIERS} identifiers`, () => {
    const many = Array.from({ length: 60 }, (_, i) => `3A${String(i).padStart(3, '0')}`).join(', ');
    expect(extractIdentifiers('', many)).toHaveLength(MAX_IDENTIFIERS);
  });

  it('gets through hostile input (catastrophic backtracking would hit the test timeout)', () => {
    const got = extractIdentifiers(
      'HS '.repeat(700),
      `${'comments '.repeat(2000)}${'1'.repeat(2000)}${'15 CFR 744, '.repeat(500)}`,
    );
    expect(got).toEqual([expect.objectContaining({ kind: 'cfr', value: '15 CFR 744' })]);
  });
});

describe('parseDateText', () => {
  it.each([
    ['January 15, 2025', '2025-01-15'],
    ['Jan. 5 2025', '2025-01-05'],
    ['15 January 2025', '2025-01-15'],
    ['2025-1-5', '2025-01-05'],
    ['2025/12/31', '2025-12-31'],
    ['2025年12月1日', '2025-12-01'],
    ['February 29, 2024', '2024-02-29'],
  ])('%s → %s', (text, iso) => {
    expect(parseDateText(text)).toBe(iso);
  });

  it.each(['February 29, 2025', 'April 31, 2025', '2025-13-01', 'Smarch 3, 2025'])('rejects %s', (text) => {
    expect(parseDateText(text)).toBeUndefined();
  });
});

describe('the classifier’s identifiers', () => {
  // The engine finds the cue words with its automaton and skips the extractor's own cue scan; the
  // answers must be the same, on the table and on every labelled item the package ships.
  const engine = compileRules(loadRules());
  const fixtures = ['probe.jsonl', 'blind.jsonl'].flatMap((f) =>
    readLabelledJsonl(fileURLToPath(new URL(`../test-fixtures/${f}`, import.meta.url))),
  );
  const inputs: Array<{ title: string; summary: string; url?: string }> = [
    ...POSITIVE.flatMap(([text]) => [
      { title: '', summary: text },
      { title: text, summary: '' },
    ]),
    ...NEGATIVE.map((text) => ({ title: text, summary: text })),
    ...fixtures.map((f) => ({ title: f.title, summary: f.summary ?? '' })),
    {
      title: 'Rule 2025-12345',
      summary: 'FR Doc. 2025-12346',
      url: 'https://www.federalregister.gov/documents/2025/01/02/2025-12345/x',
    },
  ];

  it('are the extractor’s, whether the cues come from the automaton or from its own scan', () => {
    let found = 0;
    for (const input of inputs) {
      const own = extractIdentifiers(input.title, input.summary, input.url ? { url: input.url } : undefined);
      expect(engine.classify(input).identifiers, JSON.stringify(input)).toEqual(own);
      found += own.length;
    }
    expect(found).toBeGreaterThan(100);
  });
});
