/**
 * Zone abbreviations V8's Date parser does not know (it knows UT, UTC, GMT, Z and the US zones).
 * IST is read as India, the most common meaning in the news feeds regwatch follows.
 */
const ZONES: Record<string, string> = {
  CET: '+0100',
  CEST: '+0200',
  MEZ: '+0100',
  MESZ: '+0200',
  BST: '+0100',
  IST: '+0530',
  EET: '+0200',
  EEST: '+0300',
  WET: '+0000',
  WEST: '+0100',
  MSK: '+0300',
  JST: '+0900',
  KST: '+0900',
  HKT: '+0800',
  SGT: '+0800',
  AWST: '+0800',
  ACST: '+0930',
  AEST: '+1000',
  AEDT: '+1100',
  NZST: '+1200',
  NZDT: '+1300',
};

/**
 * Month names of the languages regwatch's feeds are published in, for RSS dates written in the
 * local language against the spec ("Seg, 24 Set 2018 19:42:40 -0300" from uol.com.br).
 */
const MONTHS: Record<string, string> = {
  // Portuguese, Spanish, Italian, French, German, Dutch (English names parse natively)
  fev: 'Feb',
  abr: 'Apr',
  mai: 'May',
  ago: 'Aug',
  set: 'Sep',
  out: 'Oct',
  dez: 'Dec',
  ene: 'Jan',
  dic: 'Dec',
  gen: 'Jan',
  mag: 'May',
  giu: 'Jun',
  lug: 'Jul',
  ott: 'Oct',
  janv: 'Jan',
  févr: 'Feb',
  fevr: 'Feb',
  mars: 'Mar',
  avr: 'Apr',
  juin: 'Jun',
  juil: 'Jul',
  août: 'Aug',
  aout: 'Aug',
  sept: 'Sep',
  déc: 'Dec',
  mär: 'Mar',
  mrz: 'Mar',
  okt: 'Oct',
  mrt: 'Mar',
  mei: 'May',
};

/** "Seg, 24 Set 2018 …" → "24 Sep 2018 …": drops a day name, translates a month name. */
function translateRfc822(text: string): string | undefined {
  const m = /^(?:[^\s\d,]+,?\s+)?(\d{1,2})\.?\s+([^\s\d.]+)\.?\s+(\d{4}.*)$/u.exec(text);
  if (m === null) return undefined;
  const month = MONTHS[m[2]!.toLowerCase()];
  return month === undefined ? undefined : `${m[1]} ${month} ${m[3]}`;
}

/**
 * Parses the date formats feeds use: RFC 822/1123 (RSS `pubDate`), ISO 8601 / RFC 3339 (Atom,
 * `dc:date`, JSON Feed), with fixes for what real feeds get wrong. A time without a zone is read
 * as UTC (never the machine's local zone, so results do not depend on where the poller runs).
 * Strings without a four-digit year (or an RFC 822 two-digit one) are refused: V8 would read
 * "1" as the year 2001.
 */
export function parseFeedDate(value: string | undefined): Date | undefined {
  let text = value?.trim().replace(/\s+/g, ' ');
  if (!text || text.length > 100) return undefined;
  // RFC 822 two-digit years: "Mon, 26 Jun 17 19:40:58 GMT".
  text = text.replace(
    /^((?:[A-Za-z]{3},? )?\d{1,2} [A-Za-z]{3,9} )(\d{2})( \d)/,
    (_m, head: string, yy: string, tail: string) => {
      const year = Number(yy);
      return `${head}${year < 50 ? 2000 + year : 1900 + year}${tail}`;
    },
  );
  if (!/\d{4}/.test(text)) return undefined;
  // ISO 8601 without a zone, possibly with a space instead of "T".
  const iso = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)$/.exec(text);
  if (iso) text = `${iso[1]}T${iso[2]!.replace(',', '.')}Z`;
  const zone = / ([A-Z]{3,4})$/.exec(text)?.[1];
  if (zone !== undefined && ZONES[zone] !== undefined) text = `${text.slice(0, -zone.length)}${ZONES[zone]}`;
  // RFC 822 with a time but no zone at all.
  if (/[A-Za-z]{3} \d{4} \d{1,2}:\d{2}(?::\d{2})?$/.test(text)) text = `${text} GMT`;
  let ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    const translated = translateRfc822(text);
    if (translated !== undefined) ms = Date.parse(translated);
  }
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
