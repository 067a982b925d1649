import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatIssues } from '@regwatch/contracts';
import { parse as parseYaml } from 'yaml';
import { type Env, EnvSchema } from './env.js';
import { type ConfigFile, ConfigFileSchema } from './file.js';
import { expandFeedPresets } from './presets.js';

/** A config that could not be loaded; `problems` holds one `path: why` line each. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface Config {
  readonly env: Readonly<Env>;
  readonly file: Readonly<ConfigFile>;
  /** Absolute path of the config file, when one was read. */
  readonly filePath?: string;
}

/** Parses and validates the environment alone. */
export function parseEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const result = EnvSchema.safeParse(env);
  if (!result.success) throw new ConfigError('environment', formatIssues(result.error));
  // A signed webhook needs both halves; one without the other is a typo, not a choice.
  const { REGWATCH_OPS_WEBHOOK_URL: opsUrl, REGWATCH_OPS_WEBHOOK_SECRET: opsSecret } = result.data;
  if ((opsUrl === undefined) !== (opsSecret === undefined)) {
    throw new ConfigError('environment', [
      'REGWATCH_OPS_WEBHOOK_URL and REGWATCH_OPS_WEBHOOK_SECRET: set both (the ops webhook is signed) or neither',
    ]);
  }
  return result.data;
}

/**
 * Replaces `${NAME}` in every string of a parsed document with the environment variable, so
 * secrets can stay out of the file. A missing variable is an error naming where it was used.
 */
export function interpolateEnv(
  doc: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path = '',
  ancestors: ReadonlySet<object> = new Set(),
): unknown {
  if (typeof doc === 'string') {
    return doc.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_m, name: string) => {
      const value = env[name];
      if (value === undefined || value === '') {
        problems.push(`${path || '(root)'}: environment variable ${name} is not set`);
        return '';
      }
      return value;
    });
  }
  if (doc && typeof doc === 'object') {
    // A YAML alias may point at its own ancestor (`a: &x [*x]`): without this the walk recurses
    // until the stack overflows (found by test/src/fuzz/config.test.ts).
    if (ancestors.has(doc)) {
      problems.push(`${path || '(root)'}: a YAML alias refers to its own parent`);
      return undefined;
    }
    const inner = new Set(ancestors).add(doc);
    if (Array.isArray(doc)) return doc.map((v, i) => interpolateEnv(v, env, problems, `${path}[${i}]`, inner));
    return Object.fromEntries(
      Object.entries(doc).map(([k, v]) => [k, interpolateEnv(v, env, problems, path ? `${path}.${k}` : k, inner)]),
    );
  }
  return doc;
}

/** Parses config file text (YAML is a superset of JSON, so one parser reads both). */
export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): ConfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(source, [`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`]);
  }
  const problems: string[] = [];
  const interpolated = interpolateEnv(doc ?? {}, env, problems);
  // `- preset: mofcom-export-control` feed entries become the catalogue preset's feed.
  const expanded = expandFeedPresets(interpolated, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const result = ConfigFileSchema.safeParse(expanded);
  if (!result.success) throw new ConfigError(source, formatIssues(result.error));
  return result.data;
}

/** Reads and validates a config file. */
export function readConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [
      `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ]);
  }
  return parseConfigText(text, path, env);
}

/**
 * The one loader: environment plus the file named by `REGWATCH_CONFIG` (or `defaultFile`).
 * Call it from `main`, never on import; the result is frozen.
 */
export function loadConfig(options: { env?: NodeJS.ProcessEnv; defaultFile?: string } = {}): Config {
  const rawEnv = options.env ?? process.env;
  const env = parseEnv(rawEnv);
  const file = env.REGWATCH_CONFIG ?? options.defaultFile;
  const filePath = file ? resolve(file) : undefined;
  const parsed = filePath ? readConfigFile(filePath, rawEnv) : ConfigFileSchema.parse({});
  return deepFreeze({ env, file: parsed, ...(filePath ? { filePath } : {}) });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
