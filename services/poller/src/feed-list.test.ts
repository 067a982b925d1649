import { ConfigError, parseConfigText } from '@regwatch/config';
import { describe, expect, it } from 'vitest';
import { createFeedList } from './feed-list.js';

const feed = (id: string) => `  - { id: ${id}, url: "https://feeds.example.org/${id}.xml" }\n`;

describe('createFeedList()', () => {
  it('replaces the list from a good file and keeps it when the file is bad', () => {
    let text = `feeds:\n${feed('a')}`;
    const list = createFeedList(parseConfigText(text, 'test.yaml').feeds, () => parseConfigText(text, 'test.yaml'));
    expect(list.feeds().map((f) => f.id)).toEqual(['a']);

    text = `feeds:\n${feed('a')}${feed('b')}`;
    expect(list.reload()).toEqual({ ok: true, feeds: 2, previousFeeds: 1 });
    expect(list.feeds().map((f) => f.id)).toEqual(['a', 'b']);

    text = `feeds:\n  - { id: c, url: "ftp://nope", intervalSeconds: 5 }\n`;
    const refused = list.reload();
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error).toBeInstanceOf(ConfigError);
      expect(refused.error.message).toMatch(/feeds\[0\]/);
    }
    expect(list.feeds().map((f) => f.id)).toEqual(['a', 'b']);
  });

  it('refuses a reload when there is no file', () => {
    const list = createFeedList([]);
    const result = list.reload();
    expect(result.ok).toBe(false);
    expect(list.feeds()).toEqual([]);
  });
});
