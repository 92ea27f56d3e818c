import Handlebars from 'handlebars';
import type { NotificationKind, NotificationTexts } from '../events/event-data.js';
import { defaultTemplates, fallbackLocale, type MessageTemplate } from './default-templates.js';

/**
 * Renders a notification: the event's own text for this kind and locale where it has one, else
 * our default, else the fallback locale. Plain text as written; HTML made from the same text with
 * every value escaped, so an event title can never inject markup.
 */

export interface RenderedMessage {
  locale: string;
  subject: string;
  text: string;
  html: string;
}

export interface RenderContext {
  /** IANA zone dates are shown in: the event's. */
  timezone: string;
  [key: string]: unknown;
}

function engine(locale: string, timezone: string, escapeValues: boolean): typeof Handlebars {
  const hbs = Handlebars.create();
  const wrap = (value: string) => (escapeValues ? value : new hbs.SafeString(value));
  hbs.registerHelper('date', (value: unknown) => {
    if (!(value instanceof Date) && typeof value !== 'string') return '';
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return '';
    return wrap(new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: timezone }).format(date));
  });
  hbs.registerHelper('money', (value: unknown) => {
    const money = value as { amountMinor?: number; currency?: string } | undefined;
    if (!money?.currency || money.amountMinor === undefined) return '';
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency: money.currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return wrap(format.format(money.amountMinor / 10 ** digits));
  });
  return hbs;
}

function chooseTemplate(kind: NotificationKind, locale: string, overrides: NotificationTexts | undefined) {
  const defaults = defaultTemplates[kind] as Record<string, MessageTemplate>;
  const language = locale.split('-')[0] ?? locale;
  const resolvedLocale = defaults[language] ? language : fallbackLocale;
  const base = defaults[resolvedLocale] ?? defaultTemplates[kind].en;
  const override = overrides?.[kind]?.[locale] ?? overrides?.[kind]?.[language];
  return {
    locale: override ? language : resolvedLocale,
    subject: override?.subject ?? base.subject,
    body: override?.body ?? base.body,
  };
}

function paragraphs(html: string): string {
  return html
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${paragraph.replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

export function renderNotification(input: {
  kind: NotificationKind;
  locale: string;
  context: RenderContext;
  overrides?: NotificationTexts;
}): RenderedMessage {
  const template = chooseTemplate(input.kind, input.locale, input.overrides);
  const plain = engine(template.locale, input.context.timezone, false);
  const escaped = engine(template.locale, input.context.timezone, true);
  const options = { strict: false };
  const subject = plain.compile(template.subject, { ...options, noEscape: true })(input.context).trim();
  const text = plain.compile(template.body, { ...options, noEscape: true })(input.context).trim();
  const htmlBody = escaped.compile(template.body, options)(input.context).trim();
  const html = `<!doctype html><html lang="${template.locale}"><body>\n${paragraphs(htmlBody)}\n</body></html>`;
  return { locale: template.locale, subject: subject.replace(/\s+/g, ' '), text, html };
}
