import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBundleSource } from '../../../server/identity/bundle-source';
import { BundleError, IdentityConfigError } from '../../../server/identity/identity.errors';

describe('createBundleSource', () => {
  let dir: string;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'grantline-source-'));
    server = http.createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end('{"keys":[]}');
      else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
      else if (req.url === '/huge') {
        // Chunked, no content-length: the cap must hold while streaming.
        res.writeHead(200);
        res.write('x'.repeat(700_000));
        res.end('x'.repeat(700_000));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const insecure = { allowInsecureBundleUrls: true };

  it('when the source is a file path, then it reads the file', async () => {
    const file = path.join(dir, 'bundle.json');
    await writeFile(file, '{"keys":[]}');
    await expect(createBundleSource(file).load()).resolves.toBe('{"keys":[]}');
  });

  it('when the file is larger than the cap, then it is refused', async () => {
    const file = path.join(dir, 'big.json');
    await writeFile(file, 'x'.repeat(2048));
    await expect(createBundleSource(file, { maxBytes: 1024 }).load()).rejects.toThrow(BundleError);
  });

  it('when the URL answers 200, then its body is the bundle', async () => {
    await expect(createBundleSource(`${base}/ok`, insecure).load()).resolves.toBe('{"keys":[]}');
  });

  it('when the URL redirects, then the redirect is not followed', async () => {
    await expect(createBundleSource(`${base}/redirect`, insecure).load()).rejects.toThrow();
  });

  it('when the URL answers 404, then the load fails', async () => {
    await expect(createBundleSource(`${base}/missing`, insecure).load()).rejects.toThrow(/HTTP 404/);
  });

  it('when the body exceeds the cap while streaming, then the load fails', async () => {
    await expect(createBundleSource(`${base}/huge`, insecure).load()).rejects.toThrow(/larger than/);
  });

  it.each([
    ['plain http without the test option', 'http://127.0.0.1/bundle', {}],
    ['a scheme other than https', 'ftp://bundles.example/b', insecure],
    ['credentials in the URL', 'https://user:pw@bundles.example/b', {}],
    ['an empty location', '  ', {}],
  ])('when the source is %s, then it is a configuration error', (_case, location, opts) => {
    expect(() => createBundleSource(location, opts)).toThrow(IdentityConfigError);
  });
});
