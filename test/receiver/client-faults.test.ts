// The OpenWebIF client against hand-made servers: transport failures, HTTP errors, bad answers,
// auth without password leaks, HTTPS, query encoding, serialisation and cancellation.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { OpenWebIfClient, type ReceiverConnection } from '../../src/receiver/client';
import { ReceiverError, type ReceiverErrorKind } from '../../src/receiver/errors';
import { OWI_QUEUE_MAX } from '../../src/settings';
import { basicCredentials, freePort, sendJson, startServer, type Handler, type TestServer } from './http-fixture';

const STATUS = {
  volume: 42,
  muted: false,
  currservice_serviceref: '1:0:19:283D:3FB:1:C00000:0:0:0:',
  currservice_station: 'Das Erste HD',
  currservice_name: 'Tagesschau',
  currservice_begin_timestamp: 1_700_000_000,
  currservice_end_timestamp: 1_700_000_900,
  currservice_description: '',
  inStandby: 'false',
  isRecording: 'false',
  isStreaming: 'false',
  Streaming_list: '',
};
const PASSWORD = 'Pa55-w0rd-SECRET';
const PASSWORD_B64 = Buffer.from(`root:${PASSWORD}`).toString('base64');

let server: TestServer | undefined;
let client: OpenWebIfClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.close();
  server = undefined;
});

async function serve(handler: Handler, conn: Partial<ReceiverConnection> = {}): Promise<OpenWebIfClient> {
  server = await startServer(handler);
  client = new OpenWebIfClient({ name: 'Living Room', host: '127.0.0.1', port: server.port, ...conn });
  return client;
}

async function failure(p: Promise<unknown>): Promise<ReceiverError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ReceiverError);
    return err as ReceiverError;
  }
  throw new Error('expected the call to fail');
}

/** Nothing a user or log could see holds the password, in clear or as Basic credentials. */
function expectNoSecret(err: unknown): void {
  const views = [String(err), JSON.stringify(err), (err as Error).stack ?? '', inspect(err, { depth: 20, showHidden: true })];
  for (const view of views) {
    expect(view).not.toContain(PASSWORD);
    expect(view).not.toContain(PASSWORD_B64);
  }
  expect((err as Error).cause).toBeUndefined();
}

function expectKind(err: ReceiverError, kind: ReceiverErrorKind, endpoint: string): void {
  expect(err.kind).toBe(kind);
  expect(err.endpoint).toBe(endpoint);
  expect(err.message).toContain('Living Room (127.0.0.1:');
  expect(err.message).toContain(endpoint);
}

describe('transport failures', () => {
  it('reports a port that refuses connections as unreachable', async () => {
    const port = await freePort();
    client = new OpenWebIfClient({ name: 'Living Room', host: '127.0.0.1', port, username: 'root', password: PASSWORD });
    const err = await failure(client.status());
    expectKind(err, 'unreachable', '/api/statusinfo');
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.message).toMatch(/refused the connection.*check/);
    expectNoSecret(err);
  });

  it('times out on a box that accepts and never answers', async () => {
    const c = await serve(() => undefined, { timeoutMs: 300, username: 'root', password: PASSWORD });
    const err = await failure(c.deviceInfo());
    expectKind(err, 'timeout', '/api/deviceinfo');
    expect(err.message).toContain('within 300 ms');
    expectNoSecret(err);
  });

  it('reports a connection dropped before the answer as unreachable', async () => {
    const c = await serve((req) => req.socket.destroy());
    const err = await failure(c.status());
    expectKind(err, 'unreachable', '/api/statusinfo');
    expect(err.code).toBe('ECONNRESET');
  });

  it('reports an unknown host name as unreachable with a host hint', async () => {
    client = new OpenWebIfClient({ name: 'Living Room', host: 'no-such-host.invalid', port: 80, timeoutMs: 3000 });
    const err = await failure(client.status());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toContain('check the host');
  });
});

describe('answers that are not OpenWebIF', () => {
  it('turns an HTML page with HTTP 200 into a protocol error', async () => {
    const c = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Router login</body></html>');
    });
    const err = await failure(c.status());
    expectKind(err, 'protocol', '/api/statusinfo');
    expect(err.message).toContain('an HTML page instead of JSON');
  });

  it('turns invalid JSON into a protocol error', async () => {
    const c = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"volume": 42, "muted": fals');
    });
    const err = await failure(c.status());
    expectKind(err, 'protocol', '/api/statusinfo');
    expect(err.message).toContain('text that is not JSON');
  });

  it('turns an empty body into a protocol error', async () => {
    const c = await serve((_req, res) => res.end());
    const err = await failure(c.status());
    expect(err.message).toContain('an empty answer');
  });

  it('names the key that has an unexpected shape', async () => {
    const c = await serve((_req, res) => sendJson(res, { ...STATUS, inStandby: 'maybe' }));
    const err = await failure(c.status());
    expectKind(err, 'protocol', '/api/statusinfo');
    expect(err.message).toContain('"inStandby" is "maybe", not true/false');
  });

  it('turns a JSON array into a protocol error', async () => {
    const c = await serve((_req, res) => sendJson(res, [1, 2]));
    expectKind(await failure(c.deviceInfo()), 'protocol', '/api/deviceinfo');
  });

  it.each([
    [404, 'protocol', 'has no /api/statusinfo (HTTP 404)'],
    [500, 'protocol', 'HTTP 500'],
    [503, 'protocol', 'HTTP 503'],
    [302, 'protocol', 'HTTP 302'],
    [403, 'forbidden', 'refused access (HTTP 403)'],
  ] as const)('maps HTTP %i to %s', async (status, kind, text) => {
    const c = await serve((_req, res) => {
      res.writeHead(status, { 'Content-Type': 'text/html', Location: 'https://127.0.0.1/' });
      res.end('<html><body>Error</body></html>');
    });
    const err = await failure(c.status());
    expectKind(err, kind, '/api/statusinfo');
    expect(err.status).toBe(status);
    expect(err.message).toContain(text);
  });

  it('is not fooled by a stream.m3u that is an HTML page', async () => {
    const c = await serve((_req, res) => res.end('<html>nope</html>'));
    const err = await failure(c.streamTarget('1:0:19:283D:3FB:1:C00000:0:0:0:'));
    expectKind(err, 'protocol', '/web/stream.m3u');
    expect(err.message).toContain('no #EXTM3U header');
  });
});

describe('result: false', () => {
  it('throws a rejected error carrying the box message', async () => {
    const c = await serve((_req, res) => sendJson(res, { result: false, message: "Missing mandatory parameter 'sRef'" }));
    const err = await failure(c.zap('1:0:19:283D:3FB:1:C00000:0:0:0:'));
    expectKind(err, 'rejected', '/api/zap');
    expect(err.boxMessage).toBe("Missing mandatory parameter 'sRef'");
    expect(err.message).toBe("Living Room (127.0.0.1:" + server!.port + ") rejected /api/zap: Missing mandatory parameter 'sRef'.");
  });

  it('says so when the box gives no reason', async () => {
    const c = await serve((_req, res) => sendJson(res, { result: false }));
    const err = await failure(c.remoteKey(116));
    expect(err.kind).toBe('rejected');
    expect(err.message).toContain('no reason given');
  });
});

describe('authentication', () => {
  const authed: Handler = (req, res) => {
    const creds = basicCredentials(req);
    if (!creds || creds.user !== 'root' || creds.pass !== PASSWORD) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="OpenWebif"', 'Content-Type': 'text/html' });
      res.end('<html><body>Unauthorized</body></html>');
      return;
    }
    sendJson(res, STATUS);
  };

  it('sends Basic credentials that the box accepts', async () => {
    const c = await serve(authed, { username: 'root', password: PASSWORD });
    expect((await c.status()).volume).toBe(42);
    expect(server!.requests[0].headers['user-agent']).toBe('homebridge-xg2g');
  });

  it('reports wrong credentials as an auth error without the password anywhere', async () => {
    const c = await serve(authed, { username: 'root', password: `${PASSWORD}x` });
    const err = await failure(c.status());
    expectKind(err, 'auth', '/api/statusinfo');
    expect(err.status).toBe(401);
    expect(err.message).toBe(
      `Living Room (127.0.0.1:${server!.port}) refused the user name or password (HTTP 401) for /api/statusinfo: check username/password.`,
    );
    const leaked = [String(err), JSON.stringify(err), err.stack ?? '', inspect(err, { depth: 20, showHidden: true })].join('\n');
    expect(leaked).not.toContain(`${PASSWORD}x`);
    expect(leaked).not.toContain(Buffer.from(`root:${PASSWORD}x`).toString('base64'));
    expect(err.cause).toBeUndefined();
  });

  it('asks for credentials when none were set', async () => {
    const c = await serve(authed);
    const err = await failure(c.status());
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('set username/password');
    expect(server!.requests[0].headers.authorization).toBeUndefined();
  });

  it('sends no Authorization header when auth is off', async () => {
    const c = await serve((_req, res) => sendJson(res, STATUS));
    await c.status();
    expect(server!.requests[0].headers.authorization).toBeUndefined();
  });

  it('keeps the password out of the client object and its base URL', async () => {
    const c = await serve(authed, { username: 'root', password: PASSWORD });
    expect(c.baseUrl).toBe(`http://127.0.0.1:${server!.port}`);
    for (const view of [inspect(c, { depth: 20, showHidden: true }), JSON.stringify(Object.keys(c))]) {
      expect(view).not.toContain(PASSWORD);
      expect(view).not.toContain(PASSWORD_B64);
    }
  });

  it('keeps the password out of protocol and rejected errors too', async () => {
    let answer: unknown = '<html></html>';
    const c = await serve((_req, res) => (typeof answer === 'string' ? res.end(answer) : sendJson(res, answer)), {
      username: 'root',
      password: PASSWORD,
    });
    expectNoSecret(await failure(c.status()));
    answer = { result: false, message: 'Service blocked by parental control' };
    expectNoSecret(await failure(c.zap('1:0:19:283D:3FB:1:C00000:0:0:0:')));
  });
});

describe('HTTPS', () => {
  let dir: string;
  let tls: { key: string; cert: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says to turn HTTPS off when the port answers in plain HTTP', async () => {
    const c = await serve((_req, res) => sendJson(res, STATUS), { https: true });
    const err = await failure(c.status());
    expect(err.kind).toBe('tls');
    expect(err.message).toMatch(/answers in plain HTTP, not HTTPS: turn https off/);
  });

  it('refuses a self-signed certificate unless allowed', async () => {
    server = await startServer((_req, res) => sendJson(res, STATUS), tls);
    client = new OpenWebIfClient({ name: 'Living Room', host: '127.0.0.1', port: server.port, https: true });
    expect(client.baseUrl).toBe(`https://127.0.0.1:${server.port}`);
    const err = await failure(client.status());
    expectKind(err, 'tls', '/api/statusinfo');
    expect(err.message).toContain('allowSelfSigned');
  });

  it('accepts a self-signed certificate with allowSelfSigned', async () => {
    server = await startServer((_req, res) => sendJson(res, STATUS), tls);
    client = new OpenWebIfClient({ host: '127.0.0.1', port: server.port, https: true, allowSelfSigned: true });
    expect((await client.status()).channel?.name).toBe('Das Erste HD');
  });
});

describe('requests', () => {
  const IPTV = '4097:0:1:0:0:0:0:0:0:0:http%3a//example.com/live/x.m3u8:Demo IPTV';
  const BOUQUET = '1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.favourites.tv" ORDER BY bouquet';

  it('encodes every reference put in a query as a whole', async () => {
    const c = await serve((req, res) => {
      if (req.url?.startsWith('/web/')) res.end('#EXTM3U\nhttp://127.0.0.1:8001/x\n');
      else if (req.url?.startsWith('/api/getservices') || req.url?.startsWith('/api/epg')) sendJson(res, { result: true, services: [], events: [] });
      else sendJson(res, { result: true, message: 'ok' });
    });
    await c.zap(IPTV);
    await c.channels(BOUQUET);
    await c.epgNow(BOUQUET);
    await c.epgNext(BOUQUET);
    await c.streamTarget(IPTV, 'Demo & IPTV');
    expect(server!.requests.map((r) => r.url)).toEqual([
      `/api/zap?sRef=${encodeURIComponent(IPTV)}`,
      `/api/getservices?sRef=${encodeURIComponent(BOUQUET)}`,
      `/api/epgnow?bRef=${encodeURIComponent(BOUQUET)}`,
      `/api/epgnext?bRef=${encodeURIComponent(BOUQUET)}`,
      `/web/stream.m3u?ref=${encodeURIComponent(IPTV)}&name=Demo%20%26%20IPTV`,
    ]);
    // The IPTV URL's own %3a survives as %253a: the box decodes the query once and gets it back.
    expect(server!.requests[0].url).toContain('http%253a%2F%2Fexample.com');
  });

  it('refuses bad arguments before asking the box', async () => {
    const c = await serve((_req, res) => sendJson(res, STATUS));
    await expect(c.volumeSet(101)).rejects.toThrow(RangeError);
    await expect(c.volumeSet(5.5)).rejects.toThrow(RangeError);
    await expect(c.remoteKey(0)).rejects.toThrow(RangeError);
    await expect(c.remoteKey(0x300)).rejects.toThrow(RangeError);
    await expect(c.power('sleep' as never)).rejects.toThrow(TypeError);
    await expect(c.bouquets('cable' as never)).rejects.toThrow(TypeError);
    await expect(c.channels('')).rejects.toThrow(TypeError);
    await expect(c.zap('not a ref')).rejects.toThrow('service reference');
    expect(server!.requests).toHaveLength(0);
  });

  it('rejects hosts that are URLs or carry credentials', () => {
    expect(() => new OpenWebIfClient({ host: 'http://192.168.1.100' })).toThrow(TypeError);
    expect(() => new OpenWebIfClient({ host: `root:${PASSWORD}@192.168.1.100` })).toThrow(/not a host name/);
    try {
      new OpenWebIfClient({ host: `root:${PASSWORD}@192.168.1.100` });
    } catch (err) {
      expect(String(err)).not.toContain(PASSWORD);
    }
    expect(() => new OpenWebIfClient({ host: '192.168.1.100', port: 0 })).toThrow(TypeError);
    expect(() => new OpenWebIfClient({ host: '192.168.1.100:80' })).toThrow(/put the port in the port setting/);
    expect(() => new OpenWebIfClient({ host: 'box/web' })).toThrow(TypeError);
    expect(() => new OpenWebIfClient({ host: '' })).toThrow(TypeError);
    expect(new OpenWebIfClient({ host: '[fe80::1]', port: 8080 }).baseUrl).toBe('http://[fe80::1]:8080');
    expect(new OpenWebIfClient({ host: 'vuuno4kse_box.fritz.box' }).host).toBe('vuuno4kse_box.fritz.box');
    expect(new OpenWebIfClient({ host: '::1' }).baseUrl).toBe('http://[::1]:80');
    expect(new OpenWebIfClient({ host: 'box.local', https: true }).baseUrl).toBe('https://box.local:443');
    expect(new OpenWebIfClient({ host: 'box.local' }).label).toBe('The receiver at box.local:80');
  });
});

describe('serialisation', () => {
  it('keeps one request in flight at a time, in call order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const c = await serve((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Answer later so parallel callers would overlap if the client let them.
      setTimeout(() => {
        inFlight--;
        if (req.url?.startsWith('/api/vol')) sendJson(res, { result: true, current: 10, ismute: false });
        else sendJson(res, STATUS);
      }, 40);
    });
    const calls = [c.status(), c.volumeUp(), c.status(), c.volumeDown(), c.status(), c.toggleMute()];
    expect(c.pending).toBe(6);
    const results = await Promise.all(calls);
    expect(results).toHaveLength(6);
    expect(c.pending).toBe(0);
    expect(maxInFlight).toBe(1);
    expect(server!.requests.map((r) => r.url)).toEqual([
      '/api/statusinfo',
      '/api/vol?set=up',
      '/api/statusinfo',
      '/api/vol?set=down',
      '/api/statusinfo',
      '/api/vol?set=mute',
    ]);
  });

  it('goes on with the queue after a failed request', async () => {
    let n = 0;
    const c = await serve((_req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(500);
        res.end();
      } else sendJson(res, STATUS);
    });
    const [first, second] = await Promise.allSettled([c.status(), c.status()]);
    expect(first.status).toBe('rejected');
    expect(second.status).toBe('fulfilled');
  });
});

describe('flood', () => {
  it('refuses requests beyond a bounded backlog instead of queuing them without end', async () => {
    const c = await serve((_req, res) => setTimeout(() => sendJson(res, { result: true, current: 10, ismute: false }), 20));
    const calls = Array.from({ length: 200 }, () => c.volumeUp().then(() => 'sent', (e: ReceiverError) => e.kind));
    expect(c.pending).toBeLessThanOrEqual(OWI_QUEUE_MAX);
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(OWI_QUEUE_MAX);
    expect(outcomes.filter((o) => o === 'overloaded')).toHaveLength(200 - OWI_QUEUE_MAX);
    expect(server!.requests).toHaveLength(OWI_QUEUE_MAX);
    // Once the backlog drained, requests go through again.
    await expect(c.volumeUp()).resolves.toBeDefined();
  });
});

describe('cancellation', () => {
  it('close() cancels the request in flight and the queued ones', async () => {
    const c = await serve(() => undefined);
    const inFlight = failure(c.status());
    const queued = failure(c.deviceInfo());
    await new Promise<void>((resolve) => {
      const wait = (): void => (server!.requests.length > 0 ? resolve() : void setTimeout(wait, 5));
      wait();
    });
    c.close();
    expect((await inFlight).kind).toBe('aborted');
    expect((await queued).kind).toBe('aborted');
    expect((await failure(c.status())).kind).toBe('aborted');
    expect(c.closed).toBe(true);
    expect(server!.requests).toHaveLength(1);
  });

  it('stops through the app signal given to the constructor', async () => {
    server = await startServer(() => undefined);
    const stop = new AbortController();
    client = new OpenWebIfClient({ host: '127.0.0.1', port: server.port }, { signal: stop.signal });
    const pending = failure(client.status());
    stop.abort();
    expect((await pending).kind).toBe('aborted');
    expect(client.closed).toBe(true);
  });

  it('starts closed when the app signal already fired', async () => {
    const stop = new AbortController();
    stop.abort();
    server = await startServer((_req, res) => sendJson(res, STATUS));
    client = new OpenWebIfClient({ host: '127.0.0.1', port: server.port }, { signal: stop.signal });
    expect((await failure(client.status())).kind).toBe('aborted');
    expect(server.requests).toHaveLength(0);
  });
});
