import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../lib/search-attributes';
import { DYNAMIC_CONFIG_FILE, serverPortsFrom, TEMPORAL_SERVER_VERSION } from '../../lib/runtime/temporal-server';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** What `npm run start:cluster` runs here and what docker-compose.yml deploys come from the same files. */
describe('cluster topology: one setup for compose and start:cluster', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { image?: string; environment?: Record<string, string>; volumes?: string[] }>;
  };

  it('the namespace script creates exactly the search attributes the workflows set', () => {
    const listed = /^SEARCH_ATTRIBUTES="([^"]*)"/m.exec(read('deploy/temporal/create-namespace.sh'))?.[1]?.split(' ');
    expect(listed?.sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
  });

  it('compose runs the server version the install builds, with the shared dynamic config file', () => {
    const temporal = compose.services.temporal;
    expect(temporal?.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(compose.services['temporal-admin-tools']?.image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    const mountedAt = temporal?.environment?.DYNAMIC_CONFIG_FILE_PATH;
    expect(temporal?.volumes).toContain(`./${DYNAMIC_CONFIG_FILE.slice(ROOT.length + 1)}:${mountedAt}:ro`);
    expect(read('scripts/install-tools.mjs')).toContain(`const TEMPORAL_SERVER_VERSION = '${TEMPORAL_SERVER_VERSION}';`);
  });

  it('the server ports keep the image template layout, moved to the frontend port', () => {
    expect(serverPortsFrom(7233)).toEqual({
      frontend: 7233,
      frontendHttp: 7243,
      history: 7234,
      matching: 7235,
      worker: 7239,
      membership: [6933, 6934, 6935, 6939],
    });
    expect(serverPortsFrom(17233).membership).toEqual([16933, 16934, 16935, 16939]);
  });
});
