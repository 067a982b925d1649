import type { FeedHealth } from './data.js';

/** Escapes text for HTML element content and double-quoted attributes. Feed text is untrusted. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#cfe0ff;text-decoration:none}header form{margin-left:auto}
main{padding:20px;max-width:1200px}table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}
.ok{color:#1a7f37}.failing{color:#cf222e;font-weight:600}.never,.disabled{color:#6e7781}
.err{color:#cf222e;max-width:420px;overflow-wrap:anywhere}input,textarea,button{font:inherit}
textarea{width:100%;max-width:520px}.msg{color:#cf222e}`;

/** The console's page frame: one inline stylesheet, no scripts, nothing from other origins. */
export function layout(title: string, body: string, options: { nav?: boolean } = {}): string {
  const nav = options.nav
    ? `<header><strong>regwatch ops</strong><a href="/ops">Overview</a><a href="/ops/queues">Queues</a>` +
      `<form method="post" action="/ops/logout"><button type="submit">Log out</button></form></header>`
    : '';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head>` +
    `<body>${nav}<main>${body}</main></body></html>`
  );
}

/** The login form: paste an ops or admin token; the server answers with a cookie. */
export function loginPage(message?: string): string {
  return layout(
    'regwatch ops — log in',
    `<h1>regwatch ops console</h1>
<p>Paste an <code>ops</code> or <code>admin</code> token (<code>pnpm -s regwatch tokens create ops --name you</code>).</p>
${message ? `<p class="msg" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/ops/login">
<label for="token">Token</label><br>
<textarea id="token" name="token" rows="2" autocomplete="off" spellcheck="false" required></textarea><br>
<button type="submit">Log in</button>
</form>`,
  );
}

function when(iso: string | undefined): string {
  return iso ? `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.replace('T', ' ').slice(0, 19))}</time>` : '—';
}

/** `9 days`, `7 h`, `45 min`. */
function duration(ms: number): string {
  if (ms < 2 * 3600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}

/** Open incidents (each with its detail), then the learnt cadence or why there is none yet. */
function alarmsCell(f: FeedHealth): string {
  const open = f.incidents
    .map(
      (i) =>
        `<span class="incident ${escapeHtml(i.kind)}" title="${escapeHtml(i.detail)}"><strong>${escapeHtml(i.kind)}</strong> since ${when(i.openedAt)}</span>`,
    )
    .join('<br>');
  const cadence = f.cadence
    ? `<small>new items about every ${duration(f.cadence.p50Ms)} (p90 ${duration(f.cadence.p90Ms)}); silent after ${duration(f.cadence.silentAfterMs)}</small>`
    : '<small>cadence not learnt yet</small>';
  return `${open ? `${open}<br>` : ''}${cadence}`;
}

/** The feed-health table. */
export function feedHealthTable(feeds: readonly FeedHealth[]): string {
  if (feeds.length === 0) return '<p>No feeds configured.</p>';
  const rows = feeds
    .map(
      (f) => `<tr data-feed="${escapeHtml(f.id)}"><td><strong>${escapeHtml(f.id)}</strong>${
        f.title ? `<br>${escapeHtml(f.title)}` : ''
      }<br><small>${escapeHtml(f.url)}</small></td>
<td class="${f.status}">${f.status}${f.state.lastStatus !== undefined ? ` (${escapeHtml(f.state.lastStatus)})` : ''}</td>
<td>${when(f.state.lastSuccessAt)}</td>
<td class="err">${f.state.lastError ? escapeHtml(f.state.lastError) : '—'}${
        f.state.consecutiveFailures > 0 ? `<br><small>${f.state.consecutiveFailures} failures in a row</small>` : ''
      }</td>
<td>${when(f.state.nextPollAt)}</td><td>${escapeHtml(f.state.itemsSeen)}</td>
<td class="alarms">${alarmsCell(f)}</td></tr>`,
    )
    .join('\n');
  return `<table id="feed-health"><thead><tr><th>Feed</th><th>Status</th><th>Last success</th><th>Last error</th><th>Next poll</th><th>Items seen</th><th>Source alarms</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#bf8700', '#8250df', '#bc4c00', '#1b7c83', '#6e7781'];

/** A grouped bar chart of alerts per topic per day, as inline SVG (no script, no CDN). */
export function alertVolumeChart(volume: { days: string[]; topics: Map<string, number[]> }): string {
  const topics = [...volume.topics.entries()].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, PALETTE.length);
  if (topics.length === 0) return '<p>No alerts in this period.</p>';
  const width = 760;
  const height = 220;
  const left = 36;
  const bottom = 28;
  const max = Math.max(1, ...topics.flatMap(([, counts]) => counts));
  const groupWidth = (width - left) / volume.days.length;
  const barWidth = Math.max(2, (groupWidth - 8) / topics.length);
  const y = (n: number) => height - bottom - (n / max) * (height - bottom - 10);
  const bars: string[] = [];
  volume.days.forEach((day, d) => {
    topics.forEach(([topic, counts], t) => {
      const n = counts[d] ?? 0;
      if (n === 0) return;
      const x = left + d * groupWidth + 4 + t * barWidth;
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${y(n).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(height - bottom - y(n)).toFixed(1)}" fill="${PALETTE[t]}"><title>${escapeHtml(topic)} ${escapeHtml(day)}: ${n}</title></rect>`,
      );
    });
    bars.push(
      `<text x="${(left + d * groupWidth + groupWidth / 2).toFixed(1)}" y="${height - 10}" text-anchor="middle" font-size="11">${escapeHtml(day.slice(5))}</text>`,
    );
  });
  const axis = `<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#8c959f"/>
<text x="${left - 6}" y="14" text-anchor="end" font-size="11">${max}</text><text x="${left - 6}" y="${height - bottom}" text-anchor="end" font-size="11">0</text>`;
  const legend = topics
    .map(
      ([topic, counts], t) =>
        `<li><span style="display:inline-block;width:10px;height:10px;background:${PALETTE[t]}"></span> ${escapeHtml(topic)} (${sum(counts)})</li>`,
    )
    .join('');
  return `<svg id="alert-volume" role="img" aria-label="alerts per topic per day" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${axis}${bars.join('')}</svg>
<ul style="list-style:none;padding:0;display:flex;gap:14px;flex-wrap:wrap">${legend}</ul>`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
