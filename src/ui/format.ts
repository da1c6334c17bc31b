/** Formatting shared by the templates: dates in the publication's time zone, durations, reading time. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${withTime}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : locale, {
      timeZone,
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', timeZoneName: 'short' } : {}),
    });
    formatters.set(key, f);
  }
  return f;
}

export function formatDateTime(iso: string, locale: string, timeZone: string): string {
  return formatter(locale, timeZone, true).format(new Date(iso));
}

export function formatDate(iso: string, locale: string, timeZone: string): string {
  return formatter(locale, timeZone, false).format(new Date(iso));
}

/** ISO 8601 duration (`PT1M6S`), as schema.org's VideoObject.duration wants it. */
export function isoDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

/** `1:06`, for a video's visible length. */
export function clockDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

/** Minutes to read at about 230 words a minute, at least one. */
export function readingMinutes(text: string): number {
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(1, Math.round(words / 230));
}

/** An update is shown only when it came at least ten minutes after publication. */
export function wasUpdated(publishedAt: string, updatedAt: string): boolean {
  return Date.parse(updatedAt) - Date.parse(publishedAt) >= 10 * 60 * 1000;
}
