export { type Env, EnvSchema } from './env.js';
export { type ConfigFile, ConfigFileSchema } from './file.js';
export {
  type Config,
  ConfigError,
  interpolateEnv,
  loadConfig,
  parseConfigText,
  parseEnv,
  readConfigFile,
} from './load.js';
export { expandFeedPresets } from './presets.js';
