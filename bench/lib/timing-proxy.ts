import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that passed through the proxy: when it arrived and when the upstream answer ended (ms, monotonic). */
export interface ProxiedCall {
  path: string;
  status: number;
  startMs: number;
  endMs: number;
}

export interface TimingProxy {
  url: string;
  /** Calls recorded since the last `clear()`, in completion order. */
  calls: ProxiedCall[];
  clear(): void;
  stop(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of a sandbox that records each call's duration on the wire,
 * so a provider call's own time is told apart from the time it queued in our limiter.
 */
export async function startTimingProxy(upstream: string): Promise<TimingProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const calls: ProxiedCall[] = [];
  const server: Server = createServer((req, res) => {
    const startMs = performance.now();
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        upstreamRes.on('end', () =>
          calls.push({ path: req.url ?? '/', status: upstreamRes.statusCode ?? 502, startMs, endMs: performance.now() }),
        );
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    clear: () => void calls.splice(0, calls.length),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
