// The dashboard: a static page (dashboard/ in the repository: HTML, CSS and JavaScript modules,
// no build step) served on open routes. It holds no ledger data: in the browser it asks for a
// reader's token and calls the authenticated API with it.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** The dashboard folder, from the sources (services/) or from a build (dist/services/). */
const folder = (): string | undefined =>
  ['../dashboard/', '../../dashboard/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url))).find((dir) => existsSync(`${dir}index.html`));

// Only the page's own files, from 'self'; the API is called with the token from sessionStorage.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export const dashboardRoutes = (app: FastifyInstance): void => {
  const dir = folder();
  const serve = (file: string) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    if (dir === undefined) return reply.code(404).send({ code: 'NOT_FOUND', message: 'the dashboard is not installed' });
    return reply.headers(SECURITY_HEADERS).type(FILES[file]!).send(readFileSync(`${dir}${file}`));
  };
  app.get('/', serve('index.html'));
  for (const file of Object.keys(FILES)) app.get(`/dashboard/${file}`, serve(file));
};
