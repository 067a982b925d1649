import { compileRules, type Engine } from './engine.js';
import { RulesError } from './errors.js';
import { loadRules } from './taxonomy.js';

export type ReloadResult =
  | { ok: true; version: string; previousVersion: string }
  | { ok: false; error: RulesError; version: string };

/** Holds the live engine; `reload()` swaps it only when the new file loads, validates and compiles. */
export interface RulesHolder {
  /** The engine in use. Read it per item: a reload replaces it. */
  readonly engine: Engine;
  readonly version: string;
  readonly path: string;
  /**
   * Re-reads the file. On success the new engine replaces the old one; on failure the old engine
   * stays and the result carries the {@link RulesError} (code and `path: message` lines).
   */
  reload(): ReloadResult;
}

/**
 * Loads the taxonomy at `path` (throws a {@link RulesError} when the first load fails: a service must
 * not start without rules) and returns a holder whose `reload()` never breaks the running engine.
 */
export function createRulesHolder(path?: string): RulesHolder {
  let engine = compileRules(loadRules(path));
  return {
    get engine() {
      return engine;
    },
    get version() {
      return engine.version;
    },
    path: path ?? '(bundled taxonomy)',
    reload(): ReloadResult {
      try {
        const next = compileRules(loadRules(path));
        const previousVersion = engine.version;
        engine = next;
        return { ok: true, version: next.version, previousVersion };
      } catch (err) {
        const error =
          err instanceof RulesError
            ? err
            : new RulesError('RULES_INVALID', `cannot compile taxonomy: ${(err as Error).message}`, [], { cause: err });
        return { ok: false, error, version: engine.version };
      }
    },
  };
}
