import type { FastifyInstance, FastifySchema, FastifyTypeProvider } from 'fastify';
import { z } from 'zod';
import { RequestValidationError } from './errors.js';

/**
 * Route schemas are zod schemas (the same ones the config file uses): Fastify validates with
 * them, TypeScript infers request types from them, and the OpenAPI document is generated from
 * them with `z.toJSONSchema`.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

const PART_NAMES: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path parameters',
  headers: 'headers',
};

/** Validates with zod; a failure names every bad field (`formatIssues`) and answers 400. */
export function installZodCompilers(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const zodSchema = schema as unknown as z.ZodType;
    return (data: unknown) => {
      const result = zodSchema.safeParse(data);
      if (result.success) return { value: result.data };
      return { error: new RequestValidationError(PART_NAMES[httpPart ?? ''] ?? 'request', result.error) };
    };
  });
  // Responses are built by our handlers from parsed data: plain JSON is enough (and fastest to change).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

/** True for a zod schema (as opposed to a plain JSON Schema a plugin may register). */
function isZod(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json['$schema'];
  return json;
}

/** @fastify/swagger `transform`: turns each route's zod schemas into OpenAPI 3.0 JSON Schema. */
export function zodSwaggerTransform({ schema, url }: { schema: FastifySchema; url: string }): {
  schema: FastifySchema;
  url: string;
} {
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = { ...schema };
  for (const part of ['body', 'querystring', 'params', 'headers'] as const) {
    const value = schema[part];
    if (isZod(value)) out[part] = toJsonSchema(value, 'input');
  }
  if (schema.response && typeof schema.response === 'object') {
    const response: Record<string, unknown> = {};
    for (const [code, value] of Object.entries(schema.response as Record<string, unknown>)) {
      if (isZod(value)) {
        response[code] = {
          description: value.description ?? defaultDescription(code),
          ...toJsonSchema(value, 'output'),
        };
      } else response[code] = value;
    }
    out['response'] = response;
  }
  return { schema: out as FastifySchema, url };
}

function defaultDescription(code: string): string {
  const text: Record<string, string> = {
    '200': 'OK',
    '201': 'Created',
    '202': 'Accepted',
    '204': 'No content',
    '400': 'A field is invalid; every bad field is named in `problems`',
    '401': 'No valid bearer token',
    '403': "The token's role may not do this",
    '404': "Not found (or another team's)",
    '409': 'Conflicts with an existing entry or the config file',
    '503': 'Redis or a required service is unavailable',
  };
  return text[code] ?? 'Response';
}
