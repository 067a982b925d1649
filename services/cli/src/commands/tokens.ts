import { RoleSchema, TokenStore } from '@regwatch/api';
import type { CommandIo } from '../io.js';
import { CommandError, table, takeOption, withStores } from './redis-context.js';

const USAGE = `usage: regwatch tokens create <admin|ops|team:<team>> [--name <who it is for>]
       regwatch tokens revoke <tok_id|token>
       regwatch tokens list
`;

/**
 * `regwatch tokens …`: API bearer tokens. The token is printed once at creation; Redis keeps only
 * its SHA-256, so a lost token is revoked and replaced, never recovered.
 */
export async function tokens(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create' && sub !== 'revoke' && sub !== 'list') {
    io.stderr(USAGE);
    return 2;
  }
  return withStores(`tokens ${sub}`, io, async ({ redis, prefix }) => {
    const store = new TokenStore(redis, prefix);
    if (sub === 'create') {
      const [name, more] = takeOption(rest, '--name');
      const role = RoleSchema.safeParse(more[0]);
      if (!role.success)
        throw new CommandError(
          `role ${JSON.stringify(more[0] ?? '')} ${role.error.issues[0]?.message ?? 'is invalid'}`,
        );
      const { token, record } = await store.create(role.data, name ?? '');
      io.stderr(`created ${record.id} (${record.role}); the token is shown once — store it now:\n`);
      io.stdout(`${token}\n`);
      return 0;
    }
    if (sub === 'revoke') {
      const [id] = rest;
      if (!id) throw new CommandError(`a token id (tok_…) or the token is required\n${USAGE}`);
      if (!(await store.revoke(id)))
        throw new CommandError(`no token "${id.startsWith('rw_') ? `${id.slice(0, 6)}…` : id}"`);
      io.stdout(`revoked ${id.startsWith('rw_') ? 'the token' : id}\n`);
      return 0;
    }
    const list = await store.list();
    const rows = [['ID', 'ROLE', 'CREATED', 'NAME']];
    for (const t of list) rows.push([t.id, t.role, t.createdAt.slice(0, 19), t.name]);
    io.stdout(list.length > 0 ? table(rows) : 'no tokens\n');
    return 0;
  });
}
