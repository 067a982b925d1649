import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { makePublic } from './auth/plugin.js';
import { zodSwaggerTransform } from './http/zod.js';

/**
 * The OpenAPI 3 document, generated from the routes' zod schemas. Register before any route so
 * every route (other plugins' too) is collected.
 */
export function registerOpenApi(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'regwatch API',
        version: '1',
        description:
          'Feeds, subscriptions, alerts and deliveries of regwatch. Every route but the probes, these docs and the signed unsubscribe link needs `Authorization: Bearer <token>` (create one with `pnpm -s regwatch tokens create`). Roles: `admin` (everything), `ops` (read everything, queue actions, replay), `team:<name>` (its own subscriptions and the alerts they match).',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'feeds' },
        { name: 'subscriptions' },
        { name: 'alerts' },
        { name: 'deliveries' },
        { name: 'unsubscribe' },
        { name: 'health' },
        { name: 'ops' },
        { name: 'auth' },
      ],
    },
    transform: ({ schema, url, route }) => {
      const out = zodSwaggerTransform({ schema, url });
      const config = route.config as { public?: boolean; roles?: readonly string[] } | undefined;
      if (!config?.public) {
        const roles = ['admin', ...(config?.roles ?? [])].join(', ');
        out.schema = {
          ...out.schema,
          security: [{ bearerAuth: [] }],
          description: [(out.schema as { description?: string }).description, `Roles: ${roles}.`]
            .filter(Boolean)
            .join('\n\n'),
        } as typeof out.schema;
      }
      return out;
    },
  });
}

/** The interactive viewer at /docs (the document itself at /docs/json), open to all. */
export function registerDocsUi(app: FastifyInstance): void {
  app.register(async (docs) => {
    makePublic(docs);
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  });
}
