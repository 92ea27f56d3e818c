import { createRequire } from 'node:module';
import path from 'node:path';
import express, { Router } from 'express';
import { apiInfo, apiOperations, apiTags } from './api-operations.js';
import { docsContentSecurityPolicy } from './browser-security.js';
import { problemDocumentSchema } from './api-schemas.js';
import { buildOpenApiDocument } from './openapi.js';

/** Swagger UI's files come from the swagger-ui-dist package, so the docs page needs no CDN. */
const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const docsPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${apiInfo.title}</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// A separate script rather than an inline one, so the docs' Content-Security-Policy needs no
// 'unsafe-inline' for scripts. validatorUrl: null keeps the page from sending the
// document to swagger.io's online validator.
const docsScript = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
`;

/** GET /openapi.json (the contract) and GET /docs (Swagger UI over it). */
export function apiDocsRoutes(): Router {
  // Built when the app is assembled, so a descriptor the builder rejects stops the start, not a request.
  const document = buildOpenApiDocument(apiOperations, { info: apiInfo, tags: apiTags, problemSchema: problemDocumentSchema });
  const router = Router();

  router.get('/openapi.json', (_req, res) => {
    res.set('Cache-Control', 'no-cache').json(document);
  });
  const docsPolicy = docsContentSecurityPolicy();
  router.use('/docs', docsPolicy);
  router.get('/docs', (_req, res) => {
    res.type('html').send(docsPage);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('js').send(docsScript);
  });
  router.use('/docs/assets', express.static(swaggerUiDir, { index: false, maxAge: '1h' }));
  return router;
}
