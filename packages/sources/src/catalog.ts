import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  FeedIdSchema,
  type FeedSource,
  FeedSourceSchema,
  type FeedSourceType,
  feedSourceType,
  feedSourceUrl,
  formatIssues,
  RegwatchError,
} from '@regwatch/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Where the shipped catalogue lives: `../presets.yaml` from both `src/` and `dist/`. */
export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../presets.yaml', import.meta.url));

/** A catalogue that does not load, or a preset id or override that does not work; `problems` holds `path: why` lines. */
export class SourcesError extends RegwatchError {
  constructor(
    code: 'SOURCES_INVALID' | 'PRESET_UNKNOWN' | 'PRESET_OVERRIDE_INVALID',
    readonly problems: string[],
  ) {
    super(code, problems.join('; '));
  }
}

/** One preset as written in presets.yaml. `source` is checked against FeedSourceSchema separately. */
const PresetEntrySchema = z
  .object({
    id: FeedIdSchema,
    title: z.string().trim().min(1).max(200),
    publisher: z.string().trim().min(1).max(300),
    /** A jurisdiction code as the taxonomy and subscription filters use it (`CN`, `US`, `UK`, `JP`, `EU`). */
    jurisdiction: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter code such as "CN", "US" or "EU"'),
    /** BCP 47 primary language (`zh`, `en`, `ja`). */
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as "zh" or "en"'),
    /** True only once someone has seen the preset yield items from the real site. */
    verified: z.boolean(),
    /** How the URL and selectors were derived, and what to expect. */
    note: z.string().trim().min(1).max(2000),
    /** Feed fields (type, url, selectors, agencies, intervalSeconds…), without `id`. */
    source: z
      .record(z.string(), z.unknown())
      .refine((s) => !('id' in s), 'must not set `id`: the preset id (or the config entry) names the feed'),
  })
  .strict();

const CatalogFileSchema = z
  .object({
    version: z.literal(1),
    presets: z.array(PresetEntrySchema).min(1),
  })
  .strict();

/** A validated preset: its metadata, the feed it makes with no overrides, and that feed's URL. */
export interface Preset {
  readonly id: string;
  readonly title: string;
  readonly publisher: string;
  readonly jurisdiction: string;
  readonly language: string;
  readonly verified: boolean;
  readonly note: string;
  readonly type: FeedSourceType;
  /** The URL a poll fetches (built from `agencies` for a Federal Register preset). */
  readonly url: string;
  /** The feed fields as written in the catalogue (what overrides are merged into). */
  readonly source: Readonly<Record<string, unknown>>;
  /** The feed with the preset's own id and no overrides. */
  readonly feed: FeedSource;
}

export interface Catalog {
  readonly path: string;
  readonly presets: readonly Preset[];
  /** The preset with this id, or undefined. */
  get(id: string): Preset | undefined;
}

/**
 * The raw feed input a preset makes with `overrides` laid over it: the preset's id, title,
 * language and jurisdiction, then its `source`, then the overrides (one level deep for
 * `selectors`). Not validated; `feedFromPreset` validates it, the config loader lets the config
 * schema do so (so a bad override is reported at its own path).
 */
export function presetFeedInput(
  preset: Preset,
  overrides: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    id: preset.id,
    title: preset.title,
    lang: preset.language,
    jurisdiction: preset.jurisdiction,
    ...preset.source,
  };
  // A Federal Register preset is built from `agencies`; giving `url` replaces that query outright
  // (the schema allows exactly one of the two).
  if (base.type === 'federalregister' && overrides.url !== undefined) {
    delete base.agencies;
    delete base.documentTypes;
    delete base.term;
  }
  const merged: Record<string, unknown> = { ...base, ...overrides };
  if (isRecord(base.selectors) && isRecord(overrides.selectors)) {
    merged.selectors = { ...base.selectors, ...overrides.selectors };
  }
  return merged;
}

/** Parses catalogue YAML text; every problem (schema, duplicate id, a preset's feed) is reported with its path. */
export function parseCatalog(text: string, path = '(text)'): Catalog {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new SourcesError('SOURCES_INVALID', [`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const parsed = CatalogFileSchema.safeParse(doc);
  if (!parsed.success)
    throw new SourcesError(
      'SOURCES_INVALID',
      formatIssues(parsed.error).map((p) => `${path}: ${p}`),
    );

  const problems: string[] = [];
  const presets: Preset[] = [];
  const seen = new Map<string, number>();
  parsed.data.presets.forEach((entry, i) => {
    const first = seen.get(entry.id);
    if (first !== undefined) {
      problems.push(`${path}: presets[${i}].id: duplicate id "${entry.id}" (first used by presets[${first}])`);
      return;
    }
    seen.set(entry.id, i);
    const draft = { ...entry, type: 'rss' as FeedSourceType, url: '', feed: undefined as unknown as FeedSource };
    const feed = FeedSourceSchema.safeParse(presetFeedInput(draft));
    if (!feed.success) {
      problems.push(...formatIssues(feed.error, `presets[${i}].source`).map((p) => `${path}: ${p}`));
      return;
    }
    presets.push(
      deepFreeze({ ...entry, type: feedSourceType(feed.data), url: feedSourceUrl(feed.data), feed: feed.data }),
    );
  });
  if (problems.length > 0) throw new SourcesError('SOURCES_INVALID', problems);
  const byId = new Map(presets.map((p) => [p.id, p]));
  return Object.freeze({ path, presets: Object.freeze(presets), get: (id: string) => byId.get(id) });
}

/** Reads and validates a catalogue file (default: the shipped presets.yaml). */
export function loadCatalog(path = DEFAULT_CATALOG_PATH): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SourcesError('SOURCES_INVALID', [
      `${path}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ]);
  }
  return parseCatalog(text, path);
}

let shipped: Catalog | undefined;

/** The shipped catalogue, read on first use (not on import) and kept. */
export function defaultCatalog(): Catalog {
  shipped ??= loadCatalog();
  return shipped;
}

/** Every preset of the shipped catalogue, in catalogue order. */
export function listPresets(catalog: Catalog = defaultCatalog()): readonly Preset[] {
  return catalog.presets;
}

/** The preset with this id; throws a SourcesError naming close ids when there is none. */
export function presetById(id: string, catalog: Catalog = defaultCatalog()): Preset {
  const preset = catalog.get(id);
  if (!preset) throw new SourcesError('PRESET_UNKNOWN', [unknownPresetMessage(id, catalog)]);
  return preset;
}

/**
 * The feed a preset makes, with overrides (`id`, `intervalSeconds`, `title`, `enabled`, `url`,
 * `selectors`…) laid over it and validated. Throws a SourcesError for an unknown id or an
 * override the feed schema rejects.
 */
export function feedFromPreset(
  id: string,
  overrides: Readonly<Record<string, unknown>> = {},
  catalog: Catalog = defaultCatalog(),
): FeedSource {
  const result = FeedSourceSchema.safeParse(presetFeedInput(presetById(id, catalog), overrides));
  if (!result.success) throw new SourcesError('PRESET_OVERRIDE_INVALID', formatIssues(result.error));
  return result.data;
}

/** `unknown preset "x"`, with the closest ids when some are close. */
export function unknownPresetMessage(id: string, catalog: Catalog = defaultCatalog()): string {
  const close = closestPresetIds(id, catalog);
  const hint = close.length > 0 ? `; did you mean ${close.map((c) => `"${c}"`).join(', ')}?` : '';
  return `unknown preset "${id}"${hint} (\`regwatch sources list\` shows them all)`;
}

/** Up to three preset ids near `id`: by edit distance, or sharing a word with it. */
export function closestPresetIds(id: string, catalog: Catalog = defaultCatalog()): string[] {
  const wanted = id.toLowerCase();
  const words = new Set(wanted.split(/[-_\s]+/).filter((w) => w.length >= 3));
  return catalog.presets
    .map((p) => {
      const d = editDistance(wanted, p.id);
      const sharesWord = p.id.split('-').some((w) => words.has(w));
      return { id: p.id, d, ok: d <= Math.max(2, Math.floor(p.id.length / 3)) || sharesWord };
    })
    .filter((c) => c.ok)
    .sort((a, b) => a.d - b.d || a.id.localeCompare(b.id))
    .slice(0, 3)
    .map((c) => c.id);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
