import { EmailAddressSchema } from '@regwatch/contracts';
import { verifyUnsubscribeToken } from '@regwatch/notifier';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ApiContext } from '../context.js';
import { readCatalog } from '../domain/catalog-view.js';
import type { ZodTypeProvider } from '../http/zod.js';

const Query = z.object({ token: z.string().min(1).max(2_048).describe('the signed token of the link in the email') });

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .header('referrer-policy', 'no-referrer')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1rem}</style>` +
        `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

/** The addresses a token is for (the notifier signs a channel's whole list, comma-joined). */
function addressesOf(claimEmail: string): string[] {
  return claimEmail
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter((a) => EmailAddressSchema.safeParse(a).success);
}

/**
 * One-click unsubscribe (RFC 8058). The signed token is the only authorization: `GET` shows a
 * confirmation page (mail scanners follow links, so a GET must not unsubscribe), `POST` — from
 * that page or from the mail client's `List-Unsubscribe=One-Click` — removes the addresses.
 */
export function unsubscribeRoutes(ctx: ApiContext) {
  return async (instance: FastifyInstance) => {
    // RFC 8058 §3.1: the POST body is `List-Unsubscribe=One-Click`, urlencoded or multipart; the
    // token in the URL is what counts, so the body is read but not required.
    const asText = (_req: unknown, body: string, done: (err: Error | null, value?: unknown) => void) =>
      done(null, body);
    instance.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4_096 },
      (req, body, done) =>
        asText(req, body as string, (err) => done(err, Object.fromEntries(new URLSearchParams(body as string)))),
    );
    instance.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 4_096 }, (req, body, done) =>
      asText(req, body as string, done),
    );
    const app = instance.withTypeProvider<ZodTypeProvider>();

    const verify = async (token: string) => {
      const secret = await ctx.unsubscribeSecret();
      return secret ? verifyUnsubscribeToken(token, secret) : null;
    };
    const invalid = (reply: FastifyReply) =>
      page(
        reply,
        400,
        'This unsubscribe link is not valid',
        '<p>The link may have been cut when it was copied. Open it again from the email, or ask the team that manages the subscription.</p>',
      );

    app.get(
      '/v1/unsubscribe',
      {
        config: { public: true },
        schema: {
          tags: ['unsubscribe'],
          summary: "Confirmation page of an email's unsubscribe link (changes nothing)",
          querystring: Query,
          produces: ['text/html'],
        },
      },
      async (req, reply) => {
        const claim = await verify(req.query.token);
        if (!claim) return invalid(reply);
        const catalog = await readCatalog(ctx.catalog, ctx.file);
        const found = catalog.subscriptions().find((s) => s.item.id === claim.subscriptionId);
        const addresses = addressesOf(claim.email);
        const name = found ? (found.item.name ?? found.item.id) : claim.subscriptionId;
        const action = `?token=${encodeURIComponent(req.query.token)}`;
        return page(
          reply,
          200,
          'Unsubscribe from regwatch alerts?',
          `<p>Stop sending alerts of <strong>${escapeHtml(name)}</strong> to <strong>${escapeHtml(addresses.join(', '))}</strong>.</p>` +
            `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click">` +
            '<button type="submit">Unsubscribe</button></form>',
        );
      },
    );

    app.post(
      '/v1/unsubscribe',
      {
        config: { public: true },
        schema: {
          tags: ['unsubscribe'],
          summary: "One-click unsubscribe (RFC 8058): removes the link's addresses from the subscription",
          description:
            "The addresses are removed from the subscription's email channels (config-file subscriptions included) and stay removed; a subscription left with no channel is paused.",
          querystring: Query,
          produces: ['text/html'],
        },
      },
      async (req, reply) => {
        const claim = await verify(req.query.token);
        if (!claim) return invalid(reply);
        const addresses = addressesOf(claim.email);
        await ctx.catalog.unsubscribe(claim.subscriptionId, addresses);
        const catalog = await readCatalog(ctx.catalog, ctx.file);
        const found = catalog.subscriptions().find((s) => s.item.id === claim.subscriptionId);
        req.log.info({ subscriptionId: claim.subscriptionId, addresses: addresses.length }, 'unsubscribed');
        const paused = found?.item.paused ? '<p>No address is left on it, so the subscription is paused.</p>' : '';
        return page(
          reply,
          200,
          'You are unsubscribed',
          `<p>${escapeHtml(addresses.join(', '))} will get no more alerts from <strong>${escapeHtml(found?.item.name ?? claim.subscriptionId)}</strong>.</p>${paused}`,
        );
      },
    );
  };
}
