import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../../server/shared/logger';
import { createVaultAdapter, VaultUnavailable } from '../../../server/vault';
import { envelope, startFakeVault } from './fake-vault-http';

const logger = createLogger({ level: 'silent' });

describe('vault adapter: the HTTP client', () => {
  it('when listing, then it sends GET ?list=true with the acting token and reads data.keys', async () => {
    const fake = await startFakeVault(() => ({
      status: 200,
      body: envelope({ data: { keys: ['a', 'b'] } }),
    }));
    try {
      const vault = createVaultAdapter({ addr: `${fake.url}/`, token: 'hvs.B', timeoutMs: 2000 }, { logger });
      await expect(vault.listLeases('database/creds/r/')).resolves.toEqual([
        'database/creds/r/a',
        'database/creds/r/b',
      ]);
      expect(fake.requests[0]).toMatchObject({
        method: 'GET',
        path: 'sys/leases/lookup/database/creds/r?list=true',
        headers: { 'x-vault-token': 'hvs.B' },
      });
    } finally {
      await fake.close();
    }
  });

  it('when a proxy answers 502 with an HTML page, then the call is unavailable, not a crash', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const vault = createVaultAdapter({ addr, token: 'hvs.B', timeoutMs: 2000, retries: 0 }, { logger });
      const err = await vault.readKv('hvs.T', 'secret/data/x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultUnavailable);
      expect((err as VaultUnavailable).details).toMatchObject({ vaultStatus: 502 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('when many calls run at once, then they share a few kept-alive connections', async () => {
    const fake = await startFakeVault(() => ({
      status: 200,
      body: envelope({ data: { data: { k: 'v' }, metadata: {} } }),
    }));
    try {
      const vault = createVaultAdapter({ addr: fake.url, token: 'hvs.B', timeoutMs: 2000 }, { logger });
      for (let round = 0; round < 10; round++)
        await Promise.all(Array.from({ length: 4 }, () => vault.readKv('hvs.T', 'secret/data/x')));
      const afterParallel = fake.connections();
      for (let i = 0; i < 10; i++) await vault.readKv('hvs.T', 'secret/data/x');
      expect(fake.requests).toHaveLength(50);
      expect(afterParallel).toBeLessThan(20);
      expect(fake.connections()).toBe(afterParallel);
    } finally {
      await fake.close();
    }
  });
});
