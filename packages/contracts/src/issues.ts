import type { z } from 'zod';

/**
 * Formats zod issues as one line each, `path: message`, with array indices in brackets:
 * `subscriptions[2].channels[0].url: must be an http(s) URL`.
 */
export function formatIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path, root) || '(root)'}: ${issue.message}`);
}

export function formatPath(path: ReadonlyArray<PropertyKey>, root = ''): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
