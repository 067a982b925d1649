export { type AcMatch, AhoCorasick } from './aho-corasick.js';
export { type BenchOptions, type BenchResult, benchClassifier } from './bench.js';
export { type ClassifyOptions, compileRules, type Engine } from './engine.js';
export { RULES_ERROR_CODES, RulesError, type RulesErrorCode } from './errors.js';
export {
  defaultDevSetPath,
  type EvalMiss,
  type EvalReport,
  evaluate,
  formatReport,
  type LabelledItem,
  LabelledItemSchema,
  type LabelMismatch,
  type LabelScores,
  type Prf,
  readLabelledJsonl,
} from './eval.js';
export { createRulesHolder, type ReloadResult, type RulesHolder } from './holder.js';
export { type ExtractOptions, extractIdentifiers, MAX_IDENTIFIERS, parseDateText } from './identifiers.js';
export { createNormalizer, type NormalizedText, type Normalizer } from './normalize.js';
export {
  formatStoryId,
  hammingDistance,
  parseStoryId,
  type SimHash,
  type StoryAssignment,
  StoryClusterer,
  type StoryClustererOptions,
  simhash64,
  storyIdFor,
} from './story.js';
export {
  DEFAULT_TAXONOMY_PATH,
  loadRules,
  parseRules,
  parseRulesYaml,
  type Rules,
  type RulesInput,
  RulesSchema,
} from './taxonomy.js';
