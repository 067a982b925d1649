import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place in `services/cli/{src,dist}/`. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The config `pnpm start` uses when REGWATCH_CONFIG is not set. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../../infra/config/default.yaml', import.meta.url));
