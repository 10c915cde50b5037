import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../lib/config';

/** One request a sandbox received (admin endpoints are not recorded). */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Repeated parameters (`part=a&part=b`, as googleapis sends arrays) joined with commas. */
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The body as text (uploads included; sandboxes only see small test payloads). */
  body: string;
  /** Status the sandbox answered with. */
  status: number;
  at: number;
}

export interface RouteRequest {
  method: string;
  path: string;
  /** Values of `:name` segments of the matched route. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON (undefined when empty); throws HttpError 400 on malformed JSON. */
  json<T = unknown>(): T;
  /** The body parsed as application/x-www-form-urlencoded. */
  form(): URLSearchParams;
}

export interface RouteResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Serialized as JSON with content-type application/json. */
  json?: unknown;
  /** Raw body; content-type from `headers` (defaults to text/plain). */
  text?: string | Buffer;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Pathname with optional `:name` segments, e.g. `/drive/v3/files/:fileId`, and a final `*rest` matching the remainder. */
  path: string;
  handle(req: RouteRequest): RouteResponse | Promise<RouteResponse>;
}

/** Thrown by a route handler to answer with an error status and a provider-shaped body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface FaultSpec {
  /** Which requests: method (any when unset) and a pathname prefix (any when unset). */
  match?: { method?: string; path?: string };
  /** Answer with this status instead of the route; unset with `delayMs` = a slow but correct answer. */
  status?: number;
  /** How many matching requests it affects (default 1). */
  times?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
  /** Error body; defaults to the sandbox's provider-shaped error for `status`. */
  body?: unknown;
}

export interface SandboxFaults {
  inject(fault: FaultSpec): void;
  /** Faults not yet used up. */
  pending(): FaultSpec[];
  clear(): void;
}

export interface SandboxServer {
  url: string;
  /** Live list of recorded requests, oldest first. */
  requests: RecordedRequest[];
  faults: SandboxFaults;
  /** Clears recorded requests and faults, and calls the sandbox's own `onReset` for its state. */
  reset(): void;
  /**
   * The provider unreachable: the port is closed (connections refused, open ones dropped) for `ms`,
   * then listens again with its state intact; resolves once it is back.
   */
  unreachableFor(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RunningSandbox {
  url: string;
  stop(): Promise<void>;
}

/** One provider's local emulator: `enabled` says whether config leaves it sandboxed (no real key). */
export interface SandboxDefinition {
  name: string;
  enabled(config: Config): boolean;
  start(config: Config): Promise<RunningSandbox>;
}

export interface SandboxServerOptions {
  name: string;
  routes: Route[];
  host?: string;
  port?: number;
  /** Provider-shaped error body for a status (used by faults, HttpError without body and 404s). */
  errorBody?: (status: number, message: string) => unknown;
  onReset?: () => void;
  /** The sandbox's own admin endpoints under `/__sandbox/` (not recorded, never faulted). */
  adminRoutes?: Route[];
}

const ADMIN_PREFIX = '/__sandbox/';

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (segment.startsWith('*')) {
        names.push(segment.slice(1));
        return '(.+)';
      }
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: RouteResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | Buffer = '';
  if (response.json !== undefined) {
    payload = JSON.stringify(response.json);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  } else if (response.text !== undefined) {
    payload = response.text;
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  }
  res.writeHead(response.status ?? 200, headers);
  res.end(payload);
}

const defaultErrorBody = (status: number, message: string) => ({ error: { status, message } });

/**
 * A small provider emulator: JSON routing, request recording and fault injection, with
 * admin endpoints (`POST /__sandbox/faults`, `GET /__sandbox/requests`, `POST /__sandbox/reset`)
 * so another process (a demo, an e2e test) can drive it too.
 */
export async function createSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const routes = options.routes.map(compile);
  const adminRoutes = (options.adminRoutes ?? []).map(compile);
  const errorBody = options.errorBody ?? defaultErrorBody;
  const requests: RecordedRequest[] = [];
  let faults: Array<FaultSpec & { remaining: number }> = [];

  const faultApi: SandboxFaults = {
    inject(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    pending: () => faults.map(({ remaining, ...fault }) => ({ ...fault, times: remaining })),
    clear() {
      faults = [];
    },
  };

  function takeFault(method: string, path: string): FaultSpec | undefined {
    const fault = faults.find(
      (f) => (!f.match?.method || f.match.method.toUpperCase() === method) && (!f.match?.path || path.startsWith(f.match.path)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults = faults.filter((f) => f !== fault);
    return fault;
  }

  function reset(): void {
    requests.length = 0;
    faults = [];
    options.onReset?.();
  }

  async function handleAdmin(method: string, path: string, body: Buffer): Promise<RouteResponse> {
    if (method === 'POST' && path === `${ADMIN_PREFIX}faults`) {
      faultApi.inject(JSON.parse(body.toString('utf8') || '{}') as FaultSpec);
      return { status: 201, json: { pending: faultApi.pending() } };
    }
    if (method === 'GET' && path === `${ADMIN_PREFIX}faults`) return { json: { pending: faultApi.pending() } };
    if (method === 'GET' && path === `${ADMIN_PREFIX}requests`) return { json: { name: options.name, requests } };
    if (method === 'POST' && path === `${ADMIN_PREFIX}reset`) {
      reset();
      return { status: 204 };
    }
    return { status: 404, json: { error: 'unknown sandbox admin endpoint' } };
  }

  async function answer(req: IncomingMessage, method: string, url: URL, body: Buffer): Promise<RouteResponse> {
    const fault = takeFault(method, url.pathname);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.status) {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      return { status: fault.status, headers, json: fault.body ?? errorBody(fault.status, `injected fault ${fault.status}`) };
    }
    return (
      (await dispatch(routes, req, method, url, body)) ?? {
        status: 404,
        json: errorBody(404, `${options.name} sandbox has no route ${method} ${url.pathname}`),
      }
    );
  }

  async function dispatch(
    table: CompiledRoute[],
    req: IncomingMessage,
    method: string,
    url: URL,
    body: Buffer,
  ): Promise<RouteResponse | undefined> {
    for (const { route, pattern, names } of table) {
      if (route.method !== method) continue;
      const m = pattern.exec(url.pathname);
      if (!m) continue;
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
      try {
        return await route.handle({
          method,
          path: url.pathname,
          params,
          query: url.searchParams,
          headers: req.headers,
          body,
          json: <T>() => {
            if (body.length === 0) return undefined as T;
            try {
              return JSON.parse(body.toString('utf8')) as T;
            } catch {
              throw new HttpError(400, 'malformed JSON body');
            }
          },
          form: () => new URLSearchParams(body.toString('utf8')),
        });
      } catch (err) {
        if (err instanceof HttpError) return { status: err.status, json: err.body ?? errorBody(err.status, err.message) };
        throw err;
      }
    }
    return undefined;
  }

  const server = createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    void (async () => {
      const body = await readBody(req);
      if (url.pathname.startsWith(ADMIN_PREFIX)) {
        return send(res, (await dispatch(adminRoutes, req, method, url, body)) ?? (await handleAdmin(method, url.pathname, body)));
      }
      const response = await answer(req, method, url, body);
      requests.push({
        method,
        path: url.pathname,
        query: Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k).join(',')])),
        headers: req.headers,
        body: body.toString('utf8'),
        status: response.status ?? 200,
        at: Date.now(),
      });
      send(res, response);
    })().catch((err: Error) => {
      if (!res.headersSent) send(res, { status: 500, json: errorBody(500, `${options.name} sandbox error: ${err.message}`) });
      else res.destroy();
    });
  });

  const host = options.host ?? '127.0.0.1';
  const listen = (on: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(on, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    requests,
    faults: faultApi,
    reset,
    async unreachableFor(ms) {
      await close();
      await new Promise((r) => setTimeout(r, ms));
      await listen(port);
    },
    stop: close,
  };
}
