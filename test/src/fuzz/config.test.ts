import { ConfigError, parseConfigText } from '@regwatch/config';
import { FeedSourceSchema, SubscriptionSchema } from '@regwatch/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

// Property tests for everything that reads operator or API input: the config file and the API
// body schemas. A bad document must come back as a readable list of `path: message` problems,
// never as a crash from deep inside the YAML parser or zod.
const SEED = 0xc0f1;
const ENV = { HOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };

const VALID: Json = {
  feeds: [
    { id: 'wire', url: 'https://example.com/feed.xml', intervalSeconds: 300, title: 'Wire', lang: 'en' },
    { id: 'gov', url: 'https://example.org/atom', enabled: false },
  ],
  subscriptions: [
    {
      id: 'chips-team',
      team: 'chips',
      filter: { topics: ['export_controls'], jurisdictions: ['CN', 'US'], watchTerms: ['acme'], minSeverity: 'notice' },
      channels: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${NAME} syntax
        { type: 'webhook', url: 'https://hooks.example.com/x', secret: '${HOOK_SECRET}' },
        { type: 'email', to: ['team@example.com'] },
      ],
      mode: 'digest',
      digest: { dailyAt: '08:00', timeZone: 'Europe/Berlin' },
    },
  ],
};

/** Throws unless parseConfigText kept its contract for this text. */
function checkConfig(text: string): 'ok' | 'invalid' {
  try {
    parseConfigText(text, 'fuzz.yaml', ENV);
    return 'ok';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) expect(p).toMatch(/^[^\n]*\S: \S/s);
    return 'invalid';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const jsonValue = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

/** A path into VALID and a replacement value: the typical config typo, one field at a time. */
function paths(v: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const out = [at];
  if (Array.isArray(v)) for (const [i, c] of v.entries()) out.push(...paths(c, [...at, i]));
  else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) out.push(...paths(c, [...at, k]));
  return out;
}
const ALL_PATHS = paths(VALID).filter((p) => p.length > 0);

function mutate(doc: Json, path: Array<string | number>, value: Json | undefined): Json {
  const copy = structuredClone(doc) as Json;
  let node = copy as Record<string | number, Json>;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}

describe('parseConfigText (property)', () => {
  it('the valid config parses', () => {
    expect(checkConfig(stringify(VALID))).toBe('ok');
    expect(checkConfig(JSON.stringify(VALID))).toBe('ok');
  });

  it('one mutated field: a config or a ConfigError with path: message problems', () => {
    const seen = { ok: 0, invalid: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL_PATHS),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${NAME} syntax
        fc.option(fc.oneof(jsonValue, fc.constantFrom('', '${UNSET_VAR}', -1, 1e308, 'ftp://x', '../../etc'))),
        fc.boolean(),
        (path, value, asJson) => {
          const doc = mutate(VALID, path, value ?? undefined);
          seen[checkConfig(asJson ? JSON.stringify(doc) : stringify(doc))]++;
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
    // Both outcomes must occur, or the mutations are not exercising the validator.
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.invalid).toBeGreaterThan(0);
  });

  it('random JSON documents and random text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          jsonValue.map((v) => JSON.stringify(v)),
          jsonValue.map((v) => stringify(v)),
          fc.string({ maxLength: 300 }),
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.constantFrom('a: &x [*x]', 'a: *b', '- !!binary x', 'feeds: !!map {}', '%YAML 9.9\n---\n', '? [a]\n: b'),
        ),
        (text) => {
          checkConfig(text);
        },
      ),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it('YAML text mutations (cut, duplicated lines, tabs) of the valid config', () => {
    const base = stringify(VALID);
    fc.assert(
      fc.property(
        fc.nat(base.length),
        fc.nat(base.length),
        fc.constantFrom('', '\t', ':', '- ', '"', '&a ', '*a', '\n  '),
        (a, b, ins) => {
          const [i, j] = a < b ? [a, b] : [b, a];
          checkConfig(base.slice(0, i) + ins + base.slice(j));
          checkConfig(base.slice(0, j) + base.slice(i));
        },
      ),
      { seed: SEED + 2, numRuns: 300 },
    );
  });
});

describe('API body schemas (property)', () => {
  it('FeedSourceSchema and SubscriptionSchema safeParse never throw', () => {
    const near = fc.oneof(
      jsonValue,
      fc
        .constantFrom(...ALL_PATHS.filter((p) => p[0] === 'subscriptions' && p.length > 2))
        .chain((p) =>
          jsonValue.map((v) => mutate((VALID as { subscriptions: Json[] }).subscriptions[0]!, p.slice(2), v)),
        ),
      fc
        .constantFrom(...ALL_PATHS.filter((p) => p[0] === 'feeds' && p.length > 2))
        .chain((p) => jsonValue.map((v) => mutate((VALID as { feeds: Json[] }).feeds[0]!, p.slice(2), v))),
    );
    fc.assert(
      fc.property(near, (body) => {
        for (const schema of [FeedSourceSchema, SubscriptionSchema]) {
          const r = schema.safeParse(body);
          expect(typeof r.success).toBe('boolean');
        }
      }),
      { seed: SEED + 3, numRuns: 300 },
    );
  });
});
