import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port to connect to instead of the target. */
  address: string;
  port: number;
  /** The dependency "goes down": open connections are reset and new ones refused (closed at once). */
  cut(): void;
  /**
   * The dependency stops answering without saying so (a host gone, packets dropped): bytes on open
   * connections go nowhere, new connections are accepted and never reach it. Ended by restore(),
   * which drops the stalled connections (a real peer would have timed them out).
   */
  stall(): void;
  /** It is back: new connections reach the target again, at full speed. */
  restore(): void;
  /** The dependency is up but slow: every byte sent to it arrives `ms` later (0 for full speed). */
  slow(ms: number): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy the test controls, between a process and a dependency it must not stop (the shared
 * PostgreSQL, the run's Temporal dev server): cutting it is the outage, for this process only.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, portText] = target.startsWith('[') ? [target.slice(1, target.indexOf(']')), target.split(':').pop()] : target.split(':');
  const targetPort = Number(portText);
  const sockets = new Set<Socket>();
  let down = false;
  let delayMs = 0;
  let stalled = false;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    if (stalled) {
      sockets.add(client);
      client.on('error', () => client.destroy());
      return;
    }
    const upstream = connect(targetPort, host);
    const pair: [Socket, Socket] = [client, upstream];
    sockets.add(client);
    sockets.add(upstream);
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    // Same delay for every chunk, so timers fire in the order the bytes came.
    client.on('data', (chunk: Buffer) => {
      if (delayMs === 0) upstream.write(chunk);
      else setTimeout(() => upstream.destroyed || upstream.write(chunk), delayMs);
    });
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    stall() {
      stalled = true;
      // Bytes stay where they are: nothing is read from either side any more.
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore() {
      if (stalled) {
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      }
      stalled = false;
      down = false;
      delayMs = 0;
    },
    slow(ms: number) {
      delayMs = ms;
    },
    async close() {
      down = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
