import { formatIssues } from '@regwatch/contracts';
import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';

/**
 * An error the API answers with: a stable code, an HTTP status and a message that says what was
 * wrong and where. The body is always `{ error, message, problems? }`.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly problems?: string[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unauthorized = (message = 'a bearer token is required: Authorization: Bearer <token>') =>
  new ApiError(401, 'UNAUTHORIZED', message);
export const forbidden = (message: string) => new ApiError(403, 'FORBIDDEN', message);
export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} does not exist`);
export const conflict = (message: string) => new ApiError(409, 'CONFLICT', message);
export const badRequest = (message: string, problems?: string[]) =>
  new ApiError(400, 'VALIDATION_FAILED', message, problems);

/** A request part that failed its zod schema: every bad field is named (`channels[0].url: …`). */
export class RequestValidationError extends ApiError {
  constructor(part: string, error: z.ZodError) {
    const problems = formatIssues(error);
    super(400, 'VALIDATION_FAILED', `invalid ${part}: ${problems.join('; ')}`, problems);
  }
}

/** The body of every error answer (in the OpenAPI document too). */
export const ErrorBodySchema = z.object({
  error: z.string(),
  message: z.string(),
  problems: z.array(z.string()).optional(),
});

/** Errors from Redis: the API answers 503 so clients retry instead of treating them as bugs. */
function isRedisUnavailable(err: unknown): boolean {
  const message = (err as Error)?.message ?? '';
  return (
    /Stream isn't writeable|Connection is closed|ECONNREFUSED|did not answer within|max retries per request/i.test(
      message,
    ) || (err as { name?: string })?.name === 'MaxRetriesPerRequestError'
  );
}

/** One error handler for every route and plugin (including other engineers' plugins). */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      return reply
        .code(err.statusCode)
        .send({ error: err.code, message: err.message, ...(err.problems ? { problems: err.problems } : {}) });
    }
    const status = (err as FastifyError).statusCode;
    if (status === 429) {
      return reply.code(429).send({ error: 'RATE_LIMITED', message: err.message });
    }
    if (status !== undefined && status >= 400 && status < 500) {
      // Fastify's own client errors: bad JSON, unsupported media type, body too large.
      return reply.code(status).send({ error: (err as FastifyError).code ?? 'BAD_REQUEST', message: err.message });
    }
    if (isRedisUnavailable(err)) {
      req.log.warn({ err: err.message, url: req.routeOptions.url }, 'redis unavailable');
      return reply.code(503).send({ error: 'REDIS_UNAVAILABLE', message: 'Redis is unavailable; try again shortly' });
    }
    req.log.error({ err, url: req.routeOptions.url }, 'request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
}
