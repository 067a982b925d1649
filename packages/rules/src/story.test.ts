import { describe, expect, it } from 'vitest';
import { compileRules } from './engine.js';
import { formatStoryId, hammingDistance, parseStoryId, StoryClusterer, simhash64, storyIdFor } from './story.js';
import { loadRules } from './taxonomy.js';

const engine = compileRules(loadRules());
const idOf = (title: string, summary = '') => engine.classify({ title, summary }).storyId;

const wire = {
  title: 'US adds 80 Chinese companies to export blacklist over military ties',
  summary:
    'The Commerce Department on Tuesday added dozens of Chinese firms, including cloud and server makers, to its Entity List, citing support for military modernization and supercomputer development.',
};

describe('stateless story ids', () => {
  it('are equal for copies that differ in formatting, an outlet suffix or where the lead was cut', () => {
    const base = idOf(wire.title, wire.summary);
    expect(idOf(`${wire.title} - Reuters`, wire.summary)).toBe(base);
    expect(idOf(`${wire.title} | Tech News`, wire.summary)).toBe(base);
    expect(idOf(wire.title.toUpperCase(), wire.summary.replace(/,/g, ' ,'))).toBe(base);
    // Only the first 40 words of a lead count: outlets cut leads at different places.
    const longLead = `${wire.summary} The move is the latest in a series of steps aimed at limiting China's access to advanced technology, and officials said more were coming. Several of the listed companies supply servers to research institutes that design hypersonic weapons, according to the notice published in the Federal Register.`;
    expect(idOf(wire.title, `${longLead} Shares of the listed firms fell in Hong Kong.`)).toBe(
      idOf(wire.title, longLead),
    );
    expect(idOf(wire.title.replace('US', 'ＵＳ'), wire.summary.replace(/'/g, '’'))).toBe(base);
  });

  it('differ between different stories, including ones with the same words in a new order', () => {
    const other = idOf(
      'China adds US defence firms to its unreliable entity list',
      'Beijing said the companies sold arms to Taiwan.',
    );
    expect(other).not.toBe(idOf(wire.title, wire.summary));
    expect(
      idOf('OFAC Sanctions Actions: Notice', 'Treasury added two Iranian shipping firms to the SDN List.'),
    ).not.toBe(idOf('OFAC Sanctions Actions: Notice', 'Treasury removed a Venezuelan bank from the SDN List.'));
  });

  it('round-trip through parseStoryId and match storyIdFor for plain text', () => {
    const h = simhash64(wire.title, wire.summary);
    expect(parseStoryId(formatStoryId(h))).toEqual(h);
    expect(storyIdFor(wire.title, wire.summary)).toBe(idOf(wire.title, wire.summary));
    expect(idOf('!!!', '')).toMatch(/^st-[0-9a-f]{16}$/);
  });
});

describe('story id values', () => {
  // Ids are stored (Redis clusterer snapshots, alert payloads): a faster hash must give the same bits.
  it('stay what they were for English, CJK, accented and empty text', () => {
    expect(
      storyIdFor(
        'US adds 80 Chinese companies to export blacklist over military ties',
        'The Commerce Department on Tuesday added dozens of Chinese firms, including cloud and server makers, to its Entity List.',
      ),
    ).toBe('st-d8c7556797a12b3a');
    expect(storyIdFor('海关总署：加强出口管制物项监管', '海关总署发布公告，自2025年1月1日起施行。')).toBe(
      'st-230c84cd7cc2fa65',
    );
    expect(
      storyIdFor(
        'Zölle auf E-Autos: EU erhöht Ausgleichszölle',
        'Die Kommission hat am Dienstag vorläufige Zölle beschlossen.',
      ),
    ).toBe('st-9492cde7e17e382a');
    expect(storyIdFor('', '')).toBe('st-0578ab1ba80edeb4');
  });

  it('print both halves as eight lower-case hex digits', () => {
    expect(formatStoryId({ hi: 0, lo: 0xabc })).toBe('st-0000000000000abc');
    expect(formatStoryId({ hi: 0xffffffff, lo: 0x80000001 })).toBe('st-ffffffff80000001');
    expect(formatStoryId({ hi: 0x0102a0b0, lo: 0x00ff0010 })).toBe('st-0102a0b000ff0010');
  });
});

describe('StoryClusterer', () => {
  const rewrites = [
    wire,
    {
      title: 'US adds 80 Chinese companies to export blacklist over military ties, sources say',
      summary:
        'The Commerce Department on Tuesday added dozens of Chinese companies, including cloud and server makers, to its Entity List, citing support for military modernisation and supercomputer development.',
    },
    {
      title: 'US adds 80 Chinese companies to export blacklist over military ties',
      summary:
        'On Tuesday the Commerce Department added dozens of Chinese firms, among them cloud and server makers, to its Entity List, citing their support for military modernization and supercomputers.',
    },
  ];

  it("joins syndicated rewrites into the first item's story", () => {
    const clusterer = new StoryClusterer();
    const first = clusterer.assign(rewrites[0]!, 1_000);
    expect(first.isNew).toBe(true);
    for (const r of rewrites.slice(1)) {
      const a = clusterer.assign(r, 2_000);
      expect(a.isNew).toBe(false);
      expect(a.storyId).toBe(first.storyId);
      expect(a.distance).toBeLessThanOrEqual(clusterer.maxDistance);
    }
  });

  it('keeps different stories apart', () => {
    const clusterer = new StoryClusterer();
    const a = clusterer.assign(wire, 1_000);
    const stories = [
      {
        title: 'EU imposes duties of up to 38% on Chinese electric cars',
        summary: 'The Commission said the countervailing duties follow an anti-subsidy probe.',
      },
      {
        title: 'China bans gallium and germanium exports to the United States',
        summary: 'The commerce ministry cited dual-use concerns.',
      },
      {
        title: 'Customs seize 2 tonnes of cocaine at Antwerp',
        summary: 'The drugs were hidden in a banana shipment from Ecuador.',
      },
    ];
    for (const s of stories) {
      const b = clusterer.assign(s, 2_000);
      expect(b.isNew).toBe(true);
      expect(b.storyId).not.toBe(a.storyId);
      expect(hammingDistance(simhash64(s.title, s.summary), simhash64(wire.title, wire.summary))).toBeGreaterThan(
        clusterer.maxDistance,
      );
    }
  });

  it('forgets items outside its window and survives an export/import', () => {
    const clusterer = new StoryClusterer({ windowMs: 1_000 });
    const first = clusterer.assign(rewrites[0]!, 0);
    expect(clusterer.assign(rewrites[1]!, 5_000).storyId).not.toBe(first.storyId);
    const copy = new StoryClusterer({ windowMs: 10_000 });
    copy.import(clusterer.export());
    expect(copy.size).toBe(2);
    expect(copy.assign(rewrites[2]!, 6_000).isNew).toBe(false);
  });

  it('accepts hashes from classified items', () => {
    const clusterer = new StoryClusterer();
    const id = idOf(wire.title, wire.summary);
    expect(clusterer.assign(parseStoryId(id)!, 0).storyId).toBe(id);
    expect(clusterer.assign(parseStoryId(idOf(`${wire.title} - AP`, wire.summary))!, 1).storyId).toBe(id);
  });
});
