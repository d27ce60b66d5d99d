import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { NotFound, Unavailable } from '../shared/errors';

/** `dist/console` of the package, from the sources (server/console) or the build (dist/server/console). */
export function defaultAssetsDir(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'console');
  }
  return path.resolve('dist', 'console');
}

/**
 * The built console (`npm run build`): hashed assets cached for good, and `index.html` for every page
 * of the single-page app (its router draws the page). Nothing is fetched from anywhere else.
 */
export function consoleAssets(dir: string): Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
    (req, _res, next) => next(new NotFound(`no console asset ${req.path}`)),
  );
  router.get(['/', '/*page'], (req, res, next) => {
    if (req.path.startsWith('/api/') || req.path.startsWith('/auth/')) return next();
    if (!fs.existsSync(index)) return next(new Unavailable('the console is not built: run `npm run build`'));
    res.set('Cache-Control', 'no-cache').sendFile(index);
  });
  return router;
}
