import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors wherever they appear. Secrets must never reach a log line, even when a
 * whole config object or channel is logged by mistake.
 */
export const REDACT_PATHS = [
  'password',
  'secret',
  'secrets',
  'token',
  'smtpUrl',
  'authorization',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.smtpUrl',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'channels[*].secret',
  '*.channels[*].secret',
];

export interface LoggerConfig {
  level?: string;
  /** `pretty` for a terminal, `json` for production; `auto` picks pretty on a TTY. */
  format?: 'json' | 'pretty' | 'auto';
  name?: string;
}

/** Builds the process logger: JSON in production, readable in a terminal, secrets redacted. */
export function createLogger(config: LoggerConfig = {}): Logger {
  const format = config.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: config.name ? { svc: config.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options);
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Removes the user-info part of a URL (`redis://:pw@host` → `redis://host`) so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.password ? '[redacted]' : u.username;
      u.password = '';
    }
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
