import net from 'node:net';

/**
 * A TCP proxy between the brokers and Vault, so a test can take Vault off the network without losing
 * what it holds (both the dev Vault and OpenBao dev keep their state in memory only):
 * - `down()`: the port refuses connections and every open connection is cut, as when Vault's host goes;
 * - `stall()`: connections are accepted but nothing flows either way, as when Vault hangs;
 *   `stall('answers')`: requests reach Vault and are carried out, but no answer comes back;
 * - `up()`: back to normal (stalled bytes then flow on).
 */
export interface VaultProxy {
  url: string;
  down(): Promise<void>;
  stall(what?: 'everything' | 'answers'): void;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startVaultProxy(target: string): Promise<VaultProxy> {
  const to = new URL(target);
  const sockets = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  let stalled: false | 'everything' | 'answers' = false;
  const held: Array<() => void> = [];

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const connect = () => {
      const upstream = net.connect(Number(to.port), to.hostname);
      sockets.add(upstream);
      upstreams.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream);
        upstreams.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      if (stalled === 'answers') upstream.pause();
    };
    if (stalled === 'everything') held.push(connect);
    else connect();
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;

  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    down: stopListening,
    stall(what = 'everything') {
      stalled = what;
      for (const s of what === 'everything' ? sockets : upstreams) s.pause();
    },
    async up() {
      stalled = false;
      for (const s of sockets) s.resume();
      for (const go of held.splice(0)) go();
      if (!server.listening) await listen(port);
    },
    async close() {
      held.length = 0;
      await stopListening();
    },
  };
}
