import { toAlert } from '@regwatch/classifier';
import type { Alert, ClassifyInput, FeedItem } from '@regwatch/contracts';
import { type Engine, parseStoryId, StoryClusterer } from '@regwatch/rules';
import { seededRng } from '../helpers/random.js';

/**
 * Export-control headlines with enough varying words that each one is its own story: the
 * classifier gives near-duplicates one story id (SimHash of title + lead), and the notifier sends
 * one webhook per story, so a bench that repeated a headline would measure fewer deliveries.
 */
const SYLLABLES = [
  'kor',
  'va',
  'dyn',
  'tel',
  'mar',
  'lux',
  'sen',
  'tra',
  'qui',
  'bel',
  'ox',
  'ri',
  'zen',
  'pa',
  'lo',
  'mek',
  'sti',
  'ga',
  'nor',
  'vex',
];
const GOVS = [
  'Commerce Department',
  'BIS',
  'Washington',
  'The Dutch government',
  'Japan’s trade ministry',
  'The EU Council',
  'Britain',
  'Beijing’s commerce ministry',
];
const COUNTRIES = ['China', 'Russia', 'Iran', 'Belarus', 'North Korea', 'Myanmar', 'Syria', 'Venezuela'];
const TECH = [
  'AI chips',
  'chipmaking equipment',
  'lithography tools',
  'advanced semiconductors',
  'HBM memory',
  'GPU accelerators',
  'quantum computing parts',
  'drone components',
  'machine tools',
  'gallium and germanium',
];
const REASONS = [
  'military end use',
  'supercomputer projects',
  'weapons programs',
  'surveillance exports',
  'diversion risks',
  'sanctions evasion',
];
const PORTS = ['Shenzhen', 'Rotterdam', 'Hong Kong', 'Singapore', 'Busan', 'Dubai', 'Hamburg', 'Los Angeles'];
const GOODS = ['GPUs', 'processors', 'memory chips', 'server boards', 'network switches', 'FPGA modules'];

export function createStoryWriter(seed = 1) {
  const rng = seededRng(seed);
  const one = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const name = () => {
    const s = Array.from({ length: int(2, 4) }, () => one(SYLLABLES)).join('');
    return s[0]!.toUpperCase() + s.slice(1);
  };
  const names = (k: number) => Array.from({ length: k }, name).join(', ');
  // Made-up names carry most of the words, so two stories share few tokens and their SimHashes
  // stay far apart (the classifier joins items within 8 bits of each other into one story).
  const lead = () =>
    `${name()} and ${name()} of ${name()} Group said ${names(3)} had shipped through ${name()} and ${one(PORTS)} since ${int(2015, 2025)}.`;
  const templates: Array<() => ClassifyInput> = [
    () => {
      const [a, b] = [name(), name()];
      return {
        title: `${one(GOVS)} adds ${a}, ${b} and ${int(3, 180)} other ${one(COUNTRIES)} firms to Entity List over ${one(TECH)}`,
        summary: `The listing bars ${a}, ${b}, ${names(3)} from buying ${one(TECH)} without a licence, citing ${one(REASONS)}. ${lead()}`,
      };
    },
    () => {
      const [a, b] = [name(), name()];
      return {
        title: `${one(GOVS)} tightens export controls on ${one(TECH)} to ${one(COUNTRIES)} after ${a} and ${b} deals`,
        summary: `Exporters such as ${a}, ${b} and ${names(2)} must apply for licences by ${int(1, 28)} ${one(['March', 'June', 'October', 'December'])}, officials said, pointing to ${one(REASONS)}. ${lead()}`,
      };
    },
    () => {
      const [a, b] = [name(), name()];
      return {
        title: `Customs officers in ${one(PORTS)} seize ${int(20, 9000)} smuggled ${one(GOODS)} bound for ${a} ${b} in ${one(COUNTRIES)}`,
        summary: `Investigators say ${name()} Trading and ${names(2)} declared the ${one(GOODS)} as ${one(['toys', 'furniture', 'textiles', 'auto parts'])} to evade export controls; ${int(2, 12)} people were arrested. ${lead()}`,
      };
    },
  ];
  return (): ClassifyInput => one(templates)();
}

/**
 * Flag-worthy stories, each its own story: checked with the bundled rules, and kept only when its
 * SimHash is further than the classifier's clustering distance from every story this source gave
 * before, so every item served to the pipeline yields one alert and one webhook.
 */
export function createStorySource(seed: number, engine: Engine): { take(count: number): ClassifyInput[] } {
  const write = createStoryWriter(seed);
  const clusterer = new StoryClusterer({ maxDistance: 8, maxItems: 100_000 });
  return {
    take(count) {
      const stories: ClassifyInput[] = [];
      for (let tries = 0; stories.length < count; tries++) {
        if (tries > count * 3 + 100) throw new Error('the story writer keeps repeating itself: vary its vocabulary');
        const story = write();
        const c = engine.classify(story);
        const hash = parseStoryId(c.storyId);
        if (!c.flagged || !hash || !clusterer.assign(hash).isNew) continue;
        stories.push(story);
      }
      return stories;
    },
  };
}

/** A stored-alert-shaped record of a story, as the classifier would build it for an item of feed `feedId`. */
export function alertFor(story: ClassifyInput, n: number, feedId: string, engine: Engine, now: Date): Alert {
  const item: FeedItem = {
    id: `i${n.toString(36)}-${now.getTime().toString(36)}`,
    feedId,
    url: `https://news.example.com/2026/story-${n}`,
    title: story.title,
    summary: story.summary ?? '',
    published: now.toISOString(),
    publishedEstimated: false,
    fetchedAt: now.toISOString(),
    categories: [],
  };
  return toAlert(item, engine.classify(story), now);
}
