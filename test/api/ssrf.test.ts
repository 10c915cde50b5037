import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import {
  assertSafeUrl,
  isPrivateAddress,
  MAX_REDIRECTS,
  safeFetch,
  UnsafeUrlError,
  unsafeUrlReason,
  urlGuardOptions,
} from '../../lib/ssrf';
import { openMediaUrl } from '../../providers/youtube/publisher';

describe('URL intake guard (SSRF)', () => {
  it.each([
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data/'],
    ['metadata over http', 'http://169.254.169.254/latest/meta-data/'],
    ['loopback', 'https://127.0.0.1/'],
    ['IPv6 loopback', 'https://[::1]/'],
    ['decimal IPv4', 'https://2130706433/'],
    ['hex IPv4', 'https://0x7f000001/'],
    ['octal IPv4', 'https://0177.0.0.1/'],
    ['short IPv4', 'https://127.1/'],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/'],
    ['IPv4-mapped IPv6 metadata', 'https://[::ffff:a9fe:a9fe]/'],
    ['NAT64 to a private address', 'https://[64:ff9b::10.0.0.1]/'],
    ['unspecified', 'https://0.0.0.0/'],
    ['IPv6 unspecified', 'https://[::]/'],
    ['private 10/8', 'https://10.1.2.3/'],
    ['private 172.16/12', 'https://172.20.0.1/'],
    ['private 192.168/16', 'https://192.168.1.1/'],
    ['carrier-grade NAT', 'https://100.64.0.1/'],
    ['IPv6 unique local (AWS metadata v6)', 'https://[fd00:ec2::254]/'],
    ['IPv6 link-local', 'https://[fe80::1]/'],
    ['a name resolving to loopback', 'https://localhost/'],
    ['file:', 'file:///etc/passwd'],
    ['gopher:', 'gopher://127.0.0.1:6379/_INFO'],
    ['data:', 'data:text/plain;base64,aGk='],
    ['ftp:', 'ftp://example.com/file'],
    ['plain http to a public host', 'http://93.184.215.14/'],
    ['credentials', 'https://user:pass@93.184.215.14/'],
    ['garbage', 'not a url'],
  ])('refuses %s (%s)', async (_why, url) => {
    await expect(assertSafeUrl(url)).rejects.toBeInstanceOf(UnsafeUrlError);
  });

  it('accepts an https URL on a public address', async () => {
    expect((await assertSafeUrl('https://93.184.215.14/video.mp4')).href).toBe('https://93.184.215.14/video.mp4');
    expect((await assertSafeUrl('https://[2606:4700::1111]/')).hostname).toBe('[2606:4700::1111]');
  });

  it('classifies addresses', () => {
    for (const address of [
      '127.0.0.1',
      '169.254.169.254',
      '::1',
      '::ffff:7f00:1',
      '::ffff:127.0.0.1',
      '2002:7f00:1::',
      '224.0.0.1',
      '255.255.255.255',
      'not-an-ip',
    ]) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    }
  });

  it('refuses IPv4 embedded in IPv6 (mapped, translated, NAT64, Teredo, 6to4) in every spelling when the IPv4 is private', () => {
    for (const address of [
      '::ffff:0:7f00:1', // IPv4-translated 127.0.0.1
      '::ffff:0:127.0.0.1',
      '0:0:0:0:ffff:0:a9fe:a9fe', // translated metadata address
      '0:0:0:0:0:ffff:7f00:0001',
      '::FFFF:127.0.0.1',
      '64:ff9b::7f00:1', // NAT64 well-known prefix
      '64:ff9b:0:0:0:0:10.0.0.1',
      '64:ff9b:1::808:808', // local-use NAT64 prefix: refused whatever it embeds
      '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo, client 127.0.0.1 (inverted)
      '2001:0:a00:1:8000:63bf:3fff:fdd2', // Teredo via server 10.0.0.1
      '2002:a9fe:a9fe::1', // 6to4 of the metadata address
      '2002:c0a8:101::', // 6to4 of 192.168.1.1
    ]) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
    for (const address of ['::ffff:0:808:808', '64:ff9b::808:808', '2002:808:808::1', '2001:0:4136:e378:8000:63bf:f7f7:f7f7']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    }
  });

  it('judges URL fields from their text alone for the API: scheme, credentials, literal addresses, localhost', () => {
    expect(unsafeUrlReason('https://cdn.example.com/a.png')).toBeUndefined();
    expect(unsafeUrlReason('https://[::ffff:0:7f00:1]/a.png')).toMatch(/private or reserved/);
    expect(unsafeUrlReason('https://169.254.169.254/latest')).toMatch(/private or reserved/);
    expect(unsafeUrlReason('https://media.localhost/a.png')).toMatch(/local/);
    expect(unsafeUrlReason('http://cdn.example.com/a.png')).toMatch(/http: scheme/);
    expect(unsafeUrlReason('https://u:p@cdn.example.com/a.png')).toMatch(/credentials/);
  });

  it('refusals are non-retryable InvalidInput failures wherever they are thrown: a YouTube media URL fails the publish at once', async () => {
    const refused = await assertSafeUrl('https://10.0.0.1/x').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    await expect(openMediaUrl('https://[::ffff:0:a9fe:a9fe]/latest/meta-data')).rejects.toMatchObject({
      type: 'InvalidInput',
      nonRetryable: true,
    });
  });

  it('allows http and private addresses only for allowlisted sandbox hosts, never in production', async () => {
    await expect(assertSafeUrl('http://127.0.0.1:4010/x')).rejects.toThrow(/http: scheme/);
    const options = urlGuardOptions({ NODE_ENV: 'test', SSRF_ALLOWED_HOSTS: '127.0.0.1:4010' });
    expect((await assertSafeUrl('http://127.0.0.1:4010/x', options)).port).toBe('4010');
    await expect(assertSafeUrl('http://127.0.0.1:4011/x', options)).rejects.toBeInstanceOf(UnsafeUrlError);
    expect(urlGuardOptions({ NODE_ENV: 'production', SSRF_ALLOWED_HOSTS: '127.0.0.1:4010' }).allowedHosts).toEqual([]);
  });

  describe('safeFetch re-checks every redirect hop', () => {
    let server: Server;
    let port: number;
    const seen: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push(req.url ?? '');
        const redirect = (location: string) => res.writeHead(302, { location }).end();
        if (req.url === '/ok') res.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
        else if (req.url === '/hop') redirect('/ok');
        else if (req.url === '/to-loopback') redirect('https://127.0.0.1/admin');
        else if (req.url === '/to-decimal-loopback') redirect('https://2130706433/admin');
        else if (req.url === '/to-metadata') redirect('http://169.254.169.254/latest/meta-data/iam');
        else if (req.url === '/to-file') redirect('file:///etc/passwd');
        else if (req.url?.startsWith('/loop/')) redirect(`/loop/${Number(req.url.slice(6)) + 1}`);
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));
    const allowFirstHop = () => ({ allowedHosts: [`127.0.0.1:${port}`] });

    it('follows a redirect within the allowed host', async () => {
      const res = await safeFetch(`http://127.0.0.1:${port}/hop`, {}, allowFirstHop());
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('fine');
      expect(res.url).toBe(`http://127.0.0.1:${port}/ok`);
    });

    it('refuses the first hop unless its host:port is allowlisted', async () => {
      await expect(safeFetch(`http://127.0.0.1:${port}/ok`)).rejects.toThrow(/http: scheme/);
      await expect(safeFetch(`http://127.0.0.1:${port}/ok`, {}, { allowedHosts: ['127.0.0.1:1'] })).rejects.toThrow(/http: scheme/);
    });

    it('refuses a redirect to 127.0.0.1, in any spelling', async () => {
      await expect(safeFetch(`http://127.0.0.1:${port}/to-loopback`, {}, allowFirstHop())).rejects.toThrow(/127\.0\.0\.1 is private/);
      await expect(safeFetch(`http://127.0.0.1:${port}/to-decimal-loopback`, {}, allowFirstHop())).rejects.toThrow(
        /127\.0\.0\.1 is private/,
      );
    });

    it('refuses redirects to the metadata service and to file:', async () => {
      await expect(safeFetch(`http://127.0.0.1:${port}/to-metadata`, {}, allowFirstHop())).rejects.toBeInstanceOf(UnsafeUrlError);
      await expect(safeFetch(`http://127.0.0.1:${port}/to-file`, {}, allowFirstHop())).rejects.toThrow(/file: scheme/);
    });

    it('never echoes socket errors, addresses or ports in its errors', async () => {
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const err = (await safeFetch(`http://127.0.0.1:${closedPort}/x`, {}, { allowedHosts: [`127.0.0.1:${closedPort}`] }).catch(
        (e: unknown) => e,
      )) as Error & { code?: string };
      expect(err.message).not.toMatch(new RegExp(`ECONNREFUSED|:${closedPort}`));
      expect(err.code).toBe('ECONNREFUSED'); // kept for the retryable classification
    });

    it(`stops after ${MAX_REDIRECTS} redirects`, async () => {
      seen.length = 0;
      await expect(safeFetch(`http://127.0.0.1:${port}/loop/0`, {}, allowFirstHop())).rejects.toThrow(/more than 5 redirects/);
      expect(seen).toHaveLength(MAX_REDIRECTS + 1);
    });
  });
});
