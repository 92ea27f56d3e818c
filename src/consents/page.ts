import { createHash } from 'node:crypto';

/**
 * The guardian's consent page, rendered on the server: plain HTML and one inline style sheet, no
 * script, so it works in any browser with JavaScript off and in mail apps' in-app browsers. Pure:
 * every value is escaped here, and the routes (page-routes.ts) only choose which page to send.
 */

export const pageLocales = ['en', 'nb'] as const;
export type PageLocale = (typeof pageLocales)[number];

/** What the guardian is shown about the signup (from ConsentService.describe). */
export interface ConsentPageFacts {
  eventTitle: string;
  eventStartsAt: string;
  timezone: string;
  venue: string | null;
  children: { firstName: string; age: number }[];
  price: { amountMinor: number; currency: string } | null;
  organizer: string;
  expiresAt: string;
}

interface PageTexts {
  languageName: string;
  title: string;
  intro: (facts: ConsentPageFacts) => string;
  event: string;
  when: string;
  where: string;
  children: string;
  childAge: (firstName: string, age: number) => string;
  price: string;
  free: string;
  organizer: string;
  expires: string;
  privacyHeading: string;
  privacy: string[];
  guardianCheck: string;
  guardianMissing: string;
  approve: string;
  decline: string;
  approvedTitle: string;
  approvedBody: string;
  declinedTitle: string;
  declinedBody: string;
  usedTitle: string;
  usedBody: (decision: 'approved' | 'denied' | null) => string;
  expiredTitle: string;
  expiredBody: string;
  invalidTitle: string;
  invalidBody: string;
  staleTitle: string;
  staleBody: string;
  receipt: string;
}

const texts: Record<PageLocale, PageTexts> = {
  en: {
    languageName: 'English',
    title: 'A signup that needs your consent',
    intro: (facts) => `${facts.children.map((c) => c.firstName).join(', ') || 'A child'} asked to join ${facts.eventTitle}. As their guardian, you decide.`,
    event: 'Event',
    when: 'When',
    where: 'Where',
    children: 'Who is signed up',
    childAge: (firstName, age) => `${firstName}, ${age} years`,
    price: 'Price',
    free: 'Free',
    organizer: 'Organized by',
    expires: 'Answer by',
    privacyHeading: 'Your privacy',
    privacy: [
      'We store only what the signup needs: first names, ages and any note you give about needs. Organizers see first names and age groups, never your e-mail address.',
      'We keep a record of your answer (when, which address we asked, the browser you used and a shortened network address) to show that consent was given. It is anonymized when the account is erased.',
    ],
    guardianCheck: "I am this child's parent or guardian",
    guardianMissing: "Please confirm that you are the child's parent or guardian.",
    approve: 'Approve the signup',
    decline: 'Decline',
    approvedTitle: 'Thank you: the signup is approved',
    approvedBody: 'We go on with the signup now and e-mail the confirmation. You will get a receipt of your answer by e-mail.',
    declinedTitle: 'The signup is declined',
    declinedBody: 'Nothing is booked, and we tell the child that the signup was declined. You will get a receipt of your answer by e-mail.',
    usedTitle: 'This link has been used',
    usedBody: (decision) =>
      decision === 'approved'
        ? 'The signup was already approved with this link.'
        : decision === 'denied'
          ? 'The signup was already declined with this link.'
          : 'This signup no longer waits for an answer.',
    expiredTitle: 'This link has expired',
    expiredBody: 'The time to answer has run out, so the signup was not accepted. The child can sign up again, and you will get a new e-mail.',
    invalidTitle: 'This link is not valid',
    invalidBody: 'Please open the link exactly as it is in the e-mail. If it still does not work, ask for the signup to be made again.',
    staleTitle: 'Please answer again',
    staleBody: 'This page was open too long, or the answer did not come from our page. Nothing was recorded; please choose again below.',
    receipt: 'Keep the e-mail with the receipt for your records.',
  },
  nb: {
    languageName: 'Norsk',
    title: 'En påmelding som trenger ditt samtykke',
    intro: (facts) => `${facts.children.map((c) => c.firstName).join(', ') || 'Et barn'} har bedt om å bli med på ${facts.eventTitle}. Som foresatt bestemmer du.`,
    event: 'Arrangement',
    when: 'Når',
    where: 'Hvor',
    children: 'Hvem som er påmeldt',
    childAge: (firstName, age) => `${firstName}, ${age} år`,
    price: 'Pris',
    free: 'Gratis',
    organizer: 'Arrangør',
    expires: 'Svar innen',
    privacyHeading: 'Personvern',
    privacy: [
      'Vi lagrer bare det påmeldingen trenger: fornavn, alder og eventuelle merknader om behov. Arrangøren ser fornavn og aldersgruppe, aldri e-postadressen din.',
      'Vi tar vare på svaret ditt (når, hvilken adresse vi spurte, nettleseren du brukte og en forkortet nettverksadresse) for å kunne vise at samtykke ble gitt. Det anonymiseres når kontoen slettes.',
    ],
    guardianCheck: 'Jeg er barnets forelder eller foresatte',
    guardianMissing: 'Bekreft at du er barnets forelder eller foresatte.',
    approve: 'Godkjenn påmeldingen',
    decline: 'Avslå',
    approvedTitle: 'Takk: påmeldingen er godkjent',
    approvedBody: 'Vi går videre med påmeldingen nå og sender bekreftelsen på e-post. Du får en kvittering for svaret ditt på e-post.',
    declinedTitle: 'Påmeldingen er avslått',
    declinedBody: 'Ingenting er booket, og vi sier fra til barnet at påmeldingen ble avslått. Du får en kvittering for svaret ditt på e-post.',
    usedTitle: 'Denne lenken er brukt',
    usedBody: (decision) =>
      decision === 'approved'
        ? 'Påmeldingen er allerede godkjent med denne lenken.'
        : decision === 'denied'
          ? 'Påmeldingen er allerede avslått med denne lenken.'
          : 'Denne påmeldingen venter ikke lenger på svar.',
    expiredTitle: 'Denne lenken har utløpt',
    expiredBody: 'Fristen for å svare er ute, så påmeldingen ble ikke godtatt. Barnet kan melde seg på igjen, og du får en ny e-post.',
    invalidTitle: 'Denne lenken er ikke gyldig',
    invalidBody: 'Åpne lenken nøyaktig slik den står i e-posten. Virker den fortsatt ikke, be om at påmeldingen gjøres på nytt.',
    staleTitle: 'Svar en gang til',
    staleBody: 'Siden var åpen for lenge, eller svaret kom ikke fra siden vår. Ingenting ble registrert; velg på nytt nedenfor.',
    receipt: 'Ta vare på e-posten med kvitteringen.',
  },
};

/**
 * The version of the consent text, recorded with every decision: a digest of the texts of both
 * languages, so any change to what a guardian reads gives a new version without anyone bumping it.
 */
export const consentTextVersion = `page-${createHash('sha256')
  .update(
    JSON.stringify(texts, (_key, value: unknown) =>
      typeof value === 'function' ? String(value) : value,
    ),
  )
  .digest('hex')
  .slice(0, 12)}`;

/** The first of the candidates (a `lang` parameter, the signup's locale, Accept-Language) we have texts for. */
export function pickPageLocale(candidates: readonly (string | undefined | null)[]): PageLocale {
  for (const candidate of candidates) {
    const language = candidate?.trim().toLowerCase().split(/[-_]/)[0];
    if (language === 'nb' || language === 'no' || language === 'nn') return 'nb';
    if (language === 'en') return 'en';
  }
  return 'en';
}

/** Accept-Language as a list of language tags, best first. */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
      return { tag: tag.trim(), q: Number.isFinite(q) ? q : 0 };
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q)
    .map((entry) => entry.tag);
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * Dark text on white and buttons with white text on dark green and dark red: every pair is above
 * WCAG AA's 4.5:1. Focus is always visible. One sheet, allowed by its hash in the CSP.
 */
const styleSheet = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;margin:0;line-height:1.5}
main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.6rem;line-height:1.25}
h2{font-size:1.15rem;margin-top:2rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem}
dt{font-weight:600}
dd{margin:0}
ul{padding-left:1.2rem}
.notice{border-left:4px solid #1f4e8c;padding:.25rem 1rem;background:#f2f6fb}
.error{border-left:4px solid #8a1c1c;padding:.25rem 1rem;background:#fbf1f1}
label{display:flex;gap:.5rem;align-items:flex-start;margin:1.5rem 0 1rem;font-weight:600}
input[type=checkbox]{width:1.25rem;height:1.25rem;margin-top:.15rem}
.actions{display:flex;flex-wrap:wrap;gap:1rem}
button{font:inherit;font-weight:600;padding:.75rem 1.25rem;border:0;border-radius:.4rem;color:#fff;cursor:pointer}
button.approve{background:#0b5d1e}
button.decline{background:#8a1c1c}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #1f4e8c;outline-offset:3px}
a{color:#1f4e8c}
nav{font-size:.95rem}
`;

export const pageStyleHash = `sha256-${createHash('sha256').update(styleSheet).digest('base64')}`;

/** Headers every consent page carries: the link's token must not leak in a Referer, nor the page be cached or framed. */
export const pageHeaders: Record<string, string> = {
  'Content-Security-Policy': `default-src 'none'; style-src '${pageStyleHash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

function layout(locale: PageLocale, title: string, body: string, languageLinks: boolean): string {
  const other = locale === 'en' ? 'nb' : 'en';
  const switcher = languageLinks
    ? `<nav aria-label="${locale === 'en' ? 'Language' : 'Språk'}"><a href="?lang=${other}" lang="${other}" hreflang="${other}">${texts[other].languageName}</a></nav>`
    : '';
  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${styleSheet}</style>
</head>
<body>
<main>
${switcher}
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function formatDate(value: string, locale: PageLocale, timezone: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short', timeZone: timezone }).format(date);
}

function formatMoney(price: { amountMinor: number; currency: string }, locale: PageLocale): string {
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency: price.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(price.amountMinor / 10 ** digits);
}

/** The question: what is asked, the privacy notice, and the approve/decline form. */
export function renderConsentForm(input: {
  locale: PageLocale;
  facts: ConsentPageFacts;
  formToken: string;
  /** Shown above the form when an earlier answer could not be taken. */
  problem?: 'guardian-missing' | 'stale';
}): string {
  const t = texts[input.locale];
  const { facts } = input;
  const row = (term: string, value: string) => `<dt>${escapeHtml(term)}</dt><dd>${value}</dd>`;
  const children = facts.children.map((c) => `<li>${escapeHtml(t.childAge(c.firstName, c.age))}</li>`).join('');
  const problem =
    input.problem === 'guardian-missing'
      ? `<div class="error" role="alert"><p>${escapeHtml(t.guardianMissing)}</p></div>`
      : input.problem === 'stale'
        ? `<div class="error" role="alert"><h2>${escapeHtml(t.staleTitle)}</h2><p>${escapeHtml(t.staleBody)}</p></div>`
        : '';
  const body = `${problem}
<p>${escapeHtml(t.intro(facts))}</p>
<dl>
${row(t.event, escapeHtml(facts.eventTitle))}
${row(t.when, escapeHtml(formatDate(facts.eventStartsAt, input.locale, facts.timezone)))}
${facts.venue ? row(t.where, escapeHtml(facts.venue)) : ''}
${row(t.children, `<ul>${children}</ul>`)}
${row(t.price, escapeHtml(facts.price ? formatMoney(facts.price, input.locale) : t.free))}
${row(t.organizer, escapeHtml(facts.organizer))}
${row(t.expires, escapeHtml(formatDate(facts.expiresAt, input.locale, facts.timezone)))}
</dl>
<section class="notice" aria-labelledby="privacy-heading">
<h2 id="privacy-heading">${escapeHtml(t.privacyHeading)}</h2>
${t.privacy.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join('\n')}
</section>
<form method="post">
<input type="hidden" name="formToken" value="${escapeHtml(input.formToken)}">
<input type="hidden" name="lang" value="${input.locale}">
<label for="guardian"><input type="checkbox" id="guardian" name="guardian" value="yes" required> ${escapeHtml(t.guardianCheck)}</label>
<div class="actions">
<button type="submit" class="approve" name="decision" value="approved">${escapeHtml(t.approve)}</button>
<button type="submit" class="decline" name="decision" value="denied">${escapeHtml(t.decline)}</button>
</div>
</form>`;
  return layout(input.locale, t.title, body, true);
}

export type OutcomePage =
  | { kind: 'approved' }
  | { kind: 'denied' }
  | { kind: 'used'; decision: 'approved' | 'denied' | null }
  | { kind: 'expired' }
  | { kind: 'invalid' };

/** The page after an answer, and the pages of links that cannot be answered any more (or never could). */
export function renderOutcome(locale: PageLocale, outcome: OutcomePage): string {
  const t = texts[locale];
  const [title, text] =
    outcome.kind === 'approved'
      ? [t.approvedTitle, `${t.approvedBody} ${t.receipt}`]
      : outcome.kind === 'denied'
        ? [t.declinedTitle, `${t.declinedBody} ${t.receipt}`]
        : outcome.kind === 'used'
          ? [t.usedTitle, t.usedBody(outcome.decision)]
          : outcome.kind === 'expired'
            ? [t.expiredTitle, t.expiredBody]
            : [t.invalidTitle, t.invalidBody];
  const role = outcome.kind === 'approved' || outcome.kind === 'denied' ? ' role="status"' : '';
  return layout(locale, title, `<p${role}>${escapeHtml(text)}</p>`, outcome.kind !== 'approved' && outcome.kind !== 'denied');
}
