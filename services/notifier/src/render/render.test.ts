import type { Alert, Evidence, Subscription } from '@regwatch/contracts';
import { describe, expect, it } from 'vitest';
import { renderAlertEmail } from './alert-email.js';
import { renderDigestEmail } from './digest-email.js';
import { safeHttpUrl, sanitizeHeaderText } from './escape.js';
import { evidenceSpans, highlightHtml } from './highlight.js';

const subscription: Subscription = {
  id: 'trade-desk',
  team: 'compliance',
  name: 'Trade <desk>',
  filter: {},
  channels: [{ type: 'email', to: ['desk@team.example'] }],
  mode: 'digest',
  paused: false,
};
const UNSUB = 'https://regwatch.example/u?t=u1.a.b';

function ev(field: 'title' | 'summary', text: string, source: string, kind: Evidence['kind'] = 'topic'): Evidence {
  const start = source.indexOf(text);
  if (start < 0) throw new Error(`"${text}" not in "${source}"`);
  return {
    field,
    start,
    end: start + text.length,
    text,
    rule: `r-${text}`,
    kind,
    target: 'export_controls',
    weight: 1,
  };
}

function alert(id: string, over: Partial<Alert> = {}): Alert {
  const title = over.title ?? `Story ${id} about export controls`;
  const summary = over.summary ?? `Summary of ${id}.`;
  return {
    id,
    storyId: `story-${id}`,
    itemId: `item-${id}`,
    feedId: 'bis-press',
    title,
    url: `https://news.example/${id}`,
    summary,
    published: '2025-03-01T10:00:00Z',
    score: 0.9,
    severity: 'notice',
    topics: ['export_controls'],
    jurisdictions: ['US'],
    entities: ['BIS'],
    evidence: [],
    rulesVersion: 'r1',
    sources: [
      {
        feedId: 'bis-press',
        itemId: `item-${id}`,
        url: `https://news.example/${id}`,
        title,
        published: '2025-03-01T10:00:00Z',
      },
    ],
    createdAt: '2025-03-01T10:01:00Z',
    ...over,
  };
}

describe('highlightHtml', () => {
  it('marks evidence by the original offsets and escapes everything around it', () => {
    const title = 'A&B <Corp> added to "Entity List" & more';
    const html = highlightHtml(title, 'title', [
      ev('title', 'Entity List', title),
      ev('title', '<Corp>', title, 'entity'),
    ]);
    expect(html).toBe('A&amp;B <mark>&lt;Corp&gt;</mark> added to &quot;<mark>Entity List</mark>&quot; &amp; more');
  });

  it('merges overlapping spans, ignores negative and mismatched evidence', () => {
    const s = 'new export control rules';
    const spans = evidenceSpans(s, 'summary', [
      ev('summary', 'export control', s),
      ev('summary', 'control rules', s),
      ev('summary', 'new', s, 'negative'),
      { ...ev('summary', 'rules', s), text: 'other' },
      { ...ev('summary', 'rules', s), field: 'title' },
    ]);
    expect(spans).toEqual([{ start: 4, end: 24 }]);
  });

  it('handles offsets after astral characters (UTF-16) and cuts without splitting a pair', () => {
    const s = '🚢 Ship seized 🚢 off the coast';
    expect(highlightHtml(s, 'summary', [ev('summary', 'seized', s)])).toBe(
      '🚢 Ship <mark>seized</mark> 🚢 off the coast',
    );
    const cut = highlightHtml(s, 'summary', [ev('summary', 'coast', s)], 16);
    expect(cut).toBe('🚢 Ship seized …');
    expect(cut).not.toContain('<mark>');
  });
});

describe('header and link safety', () => {
  it('strips CR/LF, other controls and bidi overrides from the subject and caps it', () => {
    expect(sanitizeHeaderText('a\r\nBcc: x@y.z\u0000\u202e b', 100)).toBe('a Bcc: x@y.z b');
    const long = sanitizeHeaderText('x'.repeat(500), 150);
    expect(Array.from(long)).toHaveLength(150);
    expect(long.endsWith('…')).toBe(true);
    expect(sanitizeHeaderText('😀'.repeat(10), 5)).toBe('😀😀😀😀…');
  });

  it('accepts only http and https links', () => {
    expect(safeHttpUrl('https://a.example/x?y=1')).toBe('https://a.example/x?y=1');
    expect(safeHttpUrl('javascript:alert(1)')).toBeNull();
    expect(safeHttpUrl('data:text/html,<b>x</b>')).toBeNull();
    expect(safeHttpUrl('//a.example/x')).toBeNull();
    expect(safeHttpUrl(undefined)).toBeNull();
  });
});

describe('renderAlertEmail', () => {
  const title = 'Commerce adds <script>alert(1)</script> Acme to the Entity List';
  const summary = 'BIS said the Entity List additions take effect today. Acme declined to comment.';
  const a = alert('a1', {
    title,
    summary,
    severity: 'notice',
    evidence: [ev('title', 'Entity List', title), ev('summary', 'Entity List', summary)],
  });

  it('builds subject, both parts, why-you-got-this with marks, sources and unsubscribe headers', () => {
    const watch = [{ ...ev('summary', 'Acme', summary, 'watch'), target: 'Acme', rule: 'watch:Acme' }];
    const m = renderAlertEmail({
      alerts: [
        a,
        alert('a2', {
          storyId: 'story-a1',
          createdAt: '2025-03-01T12:00:00Z',
          url: 'ftp://x.example/f',
          sources: [
            { feedId: 'wire', itemId: 'w', url: 'ftp://x.example/f', title: 'Wire', published: '2025-03-01T11:00:00Z' },
          ],
        }),
      ],
      subscription,
      severity: 'high',
      matchedBy: ['topic:export_controls', 'watch:Acme'],
      watchEvidence: watch,
      unsubscribeUrl: UNSUB,
    });
    expect(m.subject).toBe('[regwatch] HIGH Commerce adds <script>alert(1)</script> Acme to the Entity List');
    expect(m.headers).toEqual({
      'List-Unsubscribe': `<${UNSUB}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
    });
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain(
      'Commerce adds &lt;script&gt;alert(1)&lt;/script&gt; Acme to the <mark>Entity List</mark>',
    );
    expect(m.html).toContain(
      'BIS said the <mark>Entity List</mark> additions take effect today. <mark>Acme</mark> declined',
    );
    expect(m.html).toContain('<li>Your watch term: Acme</li>');
    expect(m.html).toContain('Severity raised from NOTICE to HIGH');
    expect(m.html).toContain('<a href="https://news.example/a1"');
    expect(m.html).not.toContain('href="ftp:');
    expect(m.html).toContain('Trade &lt;desk&gt;');
    expect(m.html).toContain(`<a href="${UNSUB}">Unsubscribe</a>`);
    expect(m.text).toContain('Topics: Export controls');
    expect(m.text).toContain('Jurisdictions: US');
    expect(m.text).toContain('- Your watch term: Acme');
    expect(m.text).toContain('"Entity List" in the title (topic: Export controls)');
    expect(m.text).toContain('Sources (2):');
    expect(m.text).not.toContain('ftp://');
  });

  it('shows the identifiers of every alert of the story, and why an identifier filter matched', () => {
    const m = renderAlertEmail({
      alerts: [
        alert('i1', {
          identifiers: [
            { kind: 'eccn', value: '3A090.a' },
            { kind: 'cfr', value: '15 CFR 744.23' },
            { kind: 'effective_date', value: '2025-01-15' },
          ],
        }),
        alert('i2', {
          storyId: 'story-i1',
          createdAt: '2025-03-01T12:00:00Z',
          identifiers: [
            { kind: 'eccn', value: '3A090.a' },
            { kind: 'hs', value: '8542.31' },
            { kind: 'fr_doc', value: '2025-<b>' },
          ],
        }),
      ],
      subscription,
      severity: 'notice',
      matchedBy: ['identifier:3A090'],
      unsubscribeUrl: UNSUB,
    });
    const line = 'ECCN 3A090.a, 15 CFR 744.23, effective 2025-01-15, HS 8542.31, FR Doc. 2025-';
    expect(m.text).toContain(`Identifiers: ${line}<b>`);
    expect(m.html).toContain(`Identifiers</th><td>${line}&lt;b&gt;</td>`);
    expect(m.text).toContain('- Identifier you watch: 3A090');
    expect(m.html).toContain('<li>Identifier you watch: 3A090</li>');
    // A story naming none has no line.
    const plain = renderAlertEmail({
      alerts: [a],
      subscription,
      severity: 'notice',
      matchedBy: ['all'],
      unsubscribeUrl: UNSUB,
    });
    expect(plain.text).not.toContain('Identifiers:');
    expect(plain.html).not.toContain('Identifiers</th>');
  });

  it('offers one-click unsubscribe over https only, and refuses malformed unsubscribe URLs', () => {
    const base = { alerts: [a], subscription, severity: 'notice' as const, matchedBy: ['all'] };
    const plain = renderAlertEmail({ ...base, unsubscribeUrl: 'http://regwatch.example/u?t=1' }).headers;
    expect(plain['List-Unsubscribe']).toBe('<http://regwatch.example/u?t=1>');
    expect(plain['List-Unsubscribe-Post']).toBeUndefined();
    const local = renderAlertEmail({ ...base, unsubscribeUrl: 'http://127.0.0.1:8080/u?t=1' }).headers;
    expect(local['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(() => renderAlertEmail({ ...base, unsubscribeUrl: 'https://x.example/u>\r\nBcc: a@b.c' })).toThrow(/http/);
    expect(() => renderAlertEmail({ ...base, unsubscribeUrl: 'mailto:unsub@x.example' })).toThrow(/http/);
  });
});

describe('renderDigestEmail', () => {
  it('puts three stories in one message, most severe first, with no feed text in the subject', () => {
    const stories = [
      { alerts: [alert('s1', { title: 'Low story' })], severity: 'info' as const, matchedBy: ['all'] },
      {
        alerts: [alert('s2', { title: 'Critical <b>story</b>' })],
        severity: 'critical' as const,
        matchedBy: ['topic:export_controls'],
      },
      {
        alerts: [alert('s3', { title: 'Middle story', url: 'javascript:alert(1)' })],
        severity: 'high' as const,
        matchedBy: ['jurisdiction:US'],
      },
    ];
    const m = renderDigestEmail({
      stories,
      subscription,
      window: { from: '2025-03-01T08:00:00Z', to: new Date('2025-03-01T12:00:00Z') },
      unsubscribeUrl: UNSUB,
    });
    expect(m.subject).toBe(
      '[regwatch] Digest: 3 stories, highest CRITICAL (2025-03-01 08:00 UTC – 2025-03-01 12:00 UTC)',
    );
    expect(m.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const order = ['Critical &lt;b&gt;story&lt;/b&gt;', 'Middle story', 'Low story'].map((t) => m.html.indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(m.html).not.toContain('<b>story</b>');
    expect(m.html).not.toContain('javascript:');
    expect(m.text).toContain('3 stories (1 CRITICAL, 1 HIGH, 1 INFO)');
    expect(m.text).toMatch(/1\. CRITICAL — Critical <b>story<\/b>/);
    expect(m.text).toContain('3. INFO — Low story');
    expect(m.text).toContain('Unsubscribe: https://regwatch.example/u');
  });
});
