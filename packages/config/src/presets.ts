import { type Catalog, defaultCatalog, presetFeedInput, unknownPresetMessage } from '@regwatch/sources';

/**
 * Expands `{preset: <id>, …overrides}` feed entries of a parsed config document into the feed
 * the catalogue preset makes, the entry's other keys laid over it (`id`, `intervalSeconds`,
 * `selectors`…). Runs before schema validation, so a bad override is reported at its own path
 * (`feeds[2].intervalSeconds`) and an unknown id as `feeds[2].preset: unknown preset …`.
 */
export function expandFeedPresets(doc: unknown, problems: string[], catalog?: Catalog): unknown {
  if (!isRecord(doc) || !Array.isArray(doc.feeds)) return doc;
  if (!doc.feeds.some((f) => isRecord(f) && 'preset' in f)) return doc;
  const presets = catalog ?? defaultCatalog();
  const feeds = doc.feeds.map((entry: unknown, i) => {
    if (!isRecord(entry) || !('preset' in entry)) return entry;
    const { preset: id, ...overrides } = entry;
    if (typeof id !== 'string' || id === '') {
      problems.push(`feeds[${i}].preset: must be a preset id such as "fr-bis"`);
      return entry;
    }
    const preset = presets.get(id);
    if (!preset) {
      problems.push(`feeds[${i}].preset: ${unknownPresetMessage(id, presets)}`);
      return entry;
    }
    return presetFeedInput(preset, overrides);
  });
  return { ...doc, feeds };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
