// OpenWebIfClient.picon against hand-made answers: 404 is "none", and what is too big, not a PNG
// or not a file name is refused with a sentence.
import { OpenWebIfClient } from '../../src/receiver/client';
import { isReceiverError } from '../../src/receiver/errors';
import { PICON_MAX_BYTES } from '../../src/settings';
import { startServer, type TestServer } from '../receiver/http-fixture';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('OpenWebIfClient.picon', () => {
  let server: TestServer;
  let client: OpenWebIfClient;
  beforeAll(async () => {
    server = await startServer((req, res) => {
      const send = (status: number, type: string, body: Buffer): void => {
        res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
        res.end(body);
      };
      if (req.url === '/picon/good.png') return send(200, 'image/png', Buffer.concat([SIGNATURE, Buffer.alloc(100, 7)]));
      if (req.url === '/picon/huge.png') return send(200, 'image/png', Buffer.concat([SIGNATURE, Buffer.alloc(PICON_MAX_BYTES, 7)]));
      if (req.url === '/picon/page.png') return send(200, 'text/html', Buffer.from('<html>OpenWebif</html>'));
      if (req.url === '/picon/locked.png') return send(401, 'text/html', Buffer.from('<html>401</html>'));
      send(404, 'text/html', Buffer.from('<html><h1>No Such Resource</h1></html>'));
    });
    client = new OpenWebIfClient({ name: 'Fixture', host: '127.0.0.1', port: server.port });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('returns the PNG, or undefined when the box has none', async () => {
    expect((await client.picon('good.png'))?.subarray(0, 8)).toEqual(SIGNATURE);
    expect(await client.picon('missing.png')).toBeUndefined();
    expect(server.requests.at(-1)?.headers.accept).toBe('image/png');
  });

  it('refuses answers that are too big or not a PNG, and names the problem', async () => {
    const huge = await client.picon('huge.png').catch((e: unknown) => e);
    expect(isReceiverError(huge, 'protocol')).toBe(true);
    expect((huge as Error).message).toMatch(/larger than 512 KB/);
    const page = await client.picon('page.png').catch((e: unknown) => e);
    expect(isReceiverError(page, 'protocol')).toBe(true);
    expect((page as Error).message).toMatch(/not a PNG image/);
    await expect(client.picon('locked.png')).rejects.toMatchObject({ kind: 'auth' });
  });

  it('asks only for file names in the picon folder', async () => {
    const before = server.requests.length;
    for (const name of ['../api/statusinfo.png', 'a/b.png', 'logo.jpg', '.png', 'x\n.png']) {
      await expect(client.picon(name)).rejects.toThrow(TypeError);
    }
    expect(server.requests.length).toBe(before);
    await client.picon('Fix & Foxi?.png');
    expect(server.requests.at(-1)?.url).toBe('/picon/Fix%20%26%20Foxi%3F.png');
  });
});
