import { expect } from 'vitest';
import { ConfigError } from './index.js';

/** A webhook secret in the Standard Webhooks form, for configs in this package's tests. */
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * The problems of the ConfigError `fn` throws; fails the test if it throws anything else or nothing.
 * For this package's tests only: left out of the build and not exported.
 */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
