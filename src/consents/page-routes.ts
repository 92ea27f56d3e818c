import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../http/context.js';
import { Problem } from '../http/problem.js';
import { createFormToken, verifyFormToken } from './form-token.js';
import { acceptedLanguages, consentTextVersion, pageHeaders, pickPageLocale, renderConsentForm, renderOutcome, type OutcomePage, type PageLocale } from './page.js';
import { consentPathSchema } from './routes.js';

/** The page's path parameter; anything else is shown the "invalid link" page, not a 400. */
export const consentPagePathSchema = z.object({ token: z.string().describe('The token from the link in the e-mail') });
export const consentPageQuerySchema = z.object({ lang: z.enum(['en', 'nb']).optional().describe('The page language') });
/** What the page's form posts (application/x-www-form-urlencoded). */
export const consentPageFormSchema = z
  .object({
    decision: z.enum(['approved', 'denied']),
    guardian: z.literal('yes').describe('The "I am the parent or guardian" box, ticked'),
    formToken: z.string().describe('The per-page form token (CSRF)'),
    lang: z.enum(['en', 'nb']).optional(),
  })
  .meta({ id: 'ConsentPageForm' });
export const consentPageSchema = z.string().meta({ id: 'ConsentPageHtml', description: 'A server-rendered HTML page for people' });

/**
 * The guardian's page at /consent/{token}: the link in the consent e-mail opens it. GET shows what
 * is asked and a form; POST (the form, url-encoded) records the answer through the same service as
 * the JSON API at /v1/consents/{token}, which stays for apps. Pages, not problem documents: each
 * state of a link (bad, expired, used) is a page a person can read, with its HTTP status.
 *
 * CSRF: the link's token is the credential, and the form carries a per-page token (form-token.ts)
 * bound to it; a browser that says the post came from another site (Sec-Fetch-Site) is refused too.
 */
export function consentPageRoutes({ consents }: RouteContext, secret: string, now: () => Date = () => new Date()): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });

  const send = (res: Response, status: number, html: string) => {
    res.status(status).set(pageHeaders).type('html').send(html);
  };
  const localeFor = (req: Request, ...more: (string | undefined)[]): PageLocale => {
    const bodyLang = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>).lang : undefined;
    return pickPageLocale([
      typeof req.query.lang === 'string' ? req.query.lang : undefined,
      typeof bodyLang === 'string' ? bodyLang : undefined,
      ...more,
      ...acceptedLanguages(req.get('accept-language')),
    ]);
  };
  const outcome = (res: Response, locale: PageLocale, page: OutcomePage) => {
    const status = { approved: 200, denied: 200, used: 409, expired: 410, invalid: 404 }[page.kind];
    send(res, status, renderOutcome(locale, page));
  };
  const tokenOf = (req: Request) => {
    const parsed = consentPathSchema.safeParse(req.params);
    return parsed.success ? parsed.data.token : undefined;
  };

  router.get('/consent/:token', async (req, res) => {
    const token = tokenOf(req);
    const link = token ? await consents.linkState(token) : ({ state: 'invalid' } as const);
    if (link.state !== 'open') {
      const locale = localeFor(req, 'locale' in link ? link.locale : undefined);
      // Looking at a used link again is no conflict: it shows what was decided.
      if (link.state === 'used') return send(res, 200, renderOutcome(locale, { kind: 'used', decision: link.decision }));
      return outcome(res, locale, { kind: link.state });
    }
    const locale = localeFor(req, link.locale);
    send(res, 200, renderConsentForm({ locale, facts: link.view, formToken: createFormToken(token!, secret, now()) }));
  });

  router.post('/consent/:token', form, async (req, res) => {
    const token = tokenOf(req);
    const link = token ? await consents.linkState(token) : ({ state: 'invalid' } as const);
    if (link.state !== 'open') {
      const locale = localeFor(req, 'locale' in link ? link.locale : undefined);
      return outcome(res, locale, link.state === 'used' ? { kind: 'used', decision: link.decision } : { kind: link.state });
    }
    const locale = localeFor(req, link.locale);
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const fresh = createFormToken(token!, secret, now());
    const crossSite = req.get('sec-fetch-site') === 'cross-site';
    if (crossSite || !verifyFormToken(body.formToken, token!, secret, now())) {
      return send(res, 403, renderConsentForm({ locale, facts: link.view, formToken: fresh, problem: 'stale' }));
    }
    const answer = consentPageFormSchema.safeParse(body);
    if (!answer.success) {
      return send(res, 400, renderConsentForm({ locale, facts: link.view, formToken: fresh, problem: 'guardian-missing' }));
    }
    try {
      const { decision } = await consents.decide(token!, answer.data.decision, {
        via: 'page',
        textVersion: consentTextVersion,
        userAgent: req.get('user-agent'),
        clientAddress: req.ip,
      });
      outcome(res, locale, { kind: decision });
    } catch (error) {
      // Answered in another tab a moment ago, or ran out meanwhile: the page of that state.
      if (error instanceof Problem && error.slug === 'consent-already-given') {
        const again = await consents.linkState(token!);
        return outcome(res, locale, { kind: 'used', decision: again.state === 'used' ? again.decision : null });
      }
      if (error instanceof Problem && error.slug === 'consent-link-expired') return outcome(res, locale, { kind: 'expired' });
      if (error instanceof Problem && error.slug === 'consent-link-invalid') return outcome(res, locale, { kind: 'invalid' });
      throw error;
    }
  });
  return router;
}
