// The settings screen's "Load bouquets" check against the simulator: the bouquets of a reachable
// box, and one clear sentence for a dead address, wrong credentials and bad input, never the password.
import { createServer, type Server } from 'node:net';
import { OpenWebIfClient } from '../../src/receiver/client';
import { startSimulator, type Simulator } from '../../src/simulator';

interface Answer {
  ok: boolean;
  kind?: string;
  message?: string;
  device?: { brand: string; model: string };
  bouquets?: string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { readBouquets } = require('../../homebridge-ui/receiver-check.js') as {
  readBouquets(input: unknown, client: typeof OpenWebIfClient): Promise<Answer>;
};

const PASSWORD = 'ui-s3cret-4471';
let sim: Simulator;
let web: URL;

beforeAll(async () => {
  sim = await startSimulator({ auth: { username: 'root', password: PASSWORD } });
  web = new URL(sim.webUrl);
});
afterAll(() => sim.close());

it('lists the TV bouquets of a reachable receiver', async () => {
  const answer = await readBouquets({ host: web.hostname, port: web.port, username: 'root', password: PASSWORD }, OpenWebIfClient);
  expect(answer.ok).toBe(true);
  expect(answer.bouquets).toEqual(expect.arrayContaining(['Favourites (TV)', 'Sport (TV)']));
  expect(answer.device?.model).toBeTruthy();
});

it('says when the receiver refuses the credentials, without the password', async () => {
  const answer = await readBouquets({ host: web.hostname, port: Number(web.port), username: 'root', password: 'wrong-pw-123' }, OpenWebIfClient);
  expect(answer).toMatchObject({ ok: false, kind: 'auth' });
  expect(answer.message).toMatch(/refused the username or password/);
  expect(answer.message).not.toContain('wrong-pw-123');
});

it('says when nothing answers at the address', async () => {
  const server: Server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  await new Promise((resolve) => server.close(resolve));
  const answer = await readBouquets({ host: '127.0.0.1', port }, OpenWebIfClient);
  expect(answer).toMatchObject({ ok: false, kind: 'unreachable' });
  expect(answer.message).toMatch(/Check the address and port/);
});

it('asks for an address before connecting and rejects a bad port', async () => {
  expect(await readBouquets({ host: '' }, OpenWebIfClient)).toMatchObject({ ok: false, kind: 'input' });
  expect(await readBouquets({ host: '10.0.0.1', port: '99999' }, OpenWebIfClient)).toMatchObject({ ok: false, kind: 'input' });
  expect((await readBouquets({ host: 'root:pw@box' }, OpenWebIfClient)).message).not.toContain('pw');
});
