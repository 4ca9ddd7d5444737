// The settings screen's "Load bouquets" check against the simulator: the bouquets of a reachable
// box, and for each failure one sentence that says what happened and the one thing to do about it
// (no login vs a wrong one, HTTPS against an HTTP port, nothing listening, bad input), never the password.
import { createServer, type Server } from 'node:net';
import { OpenWebIfClient } from '../../src/receiver/client';
import { startSimulator, type Simulator } from '../../src/simulator';

interface Answer {
  ok: boolean;
  kind?: string;
  message?: string;
  device?: { brand: string; model: string; tuners: number };
  bouquets?: string[];
  radio?: string[];
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

/** One sentence, no doubled advice: a single ": " between what happened and what to do. */
function expectOneSentence(message: string | undefined): void {
  expect(message).toMatch(/^[A-Z0-9].*\.$/);
  expect(message!.split(': ').length).toBeLessThanOrEqual(2);
  expect(message!.slice(0, -1)).not.toMatch(/\.\s/);
}

it('lists the TV and radio bouquets of a reachable receiver', async () => {
  const answer = await readBouquets({ host: web.hostname, port: web.port, username: 'root', password: PASSWORD }, OpenWebIfClient);
  expect(answer.ok).toBe(true);
  expect(answer.bouquets).toEqual(expect.arrayContaining(['Favourites (TV)', 'Sport (TV)']));
  expect(answer.radio).toEqual(['Favourites (Radio)']);
  expect(answer.device?.model).toBeTruthy();
  expect(answer.device?.tuners).toBeGreaterThan(0);
});

it('asks for a login when none is entered and the box wants one', async () => {
  const answer = await readBouquets({ host: web.hostname, port: web.port }, OpenWebIfClient);
  expect(answer).toMatchObject({ ok: false, kind: 'auth' });
  expect(answer.message).toBe('The receiver needs a login: enter the OpenWebIF username and password.');
  expect(answer.message).not.toMatch(/refused/);
});

it('says the login was refused when a wrong one is entered, without the password', async () => {
  const answer = await readBouquets({ host: web.hostname, port: Number(web.port), username: 'root', password: 'wrong-pw-123' }, OpenWebIfClient);
  expect(answer).toMatchObject({ ok: false, kind: 'auth' });
  expect(answer.message).toBe('The receiver refused the username or password: enter the OpenWebIF login set on the box.');
  expect(answer.message).not.toContain('wrong-pw-123');
});

it('says to turn HTTPS off when HTTPS is on against an HTTP port', async () => {
  const answer = await readBouquets({ host: web.hostname, port: web.port, https: true, username: 'root', password: PASSWORD }, OpenWebIfClient);
  expect(answer.ok).toBe(false);
  expect(answer.message).toBe(`${web.hostname}:${web.port} answers in plain HTTP, not HTTPS: turn HTTPS off.`);
  expect(answer.message).not.toMatch(/EPROTO|could not be reached/);
});

it('says when nothing answers at the address', async () => {
  const server: Server = createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  await new Promise((resolve) => server.close(resolve));
  const answer = await readBouquets({ host: '127.0.0.1', port }, OpenWebIfClient);
  expect(answer).toMatchObject({ ok: false, kind: 'unreachable' });
  expect(answer.message).toBe(`Nothing answers at 127.0.0.1:${port}: check the address and port, and that the receiver is on (not in deep standby).`);
});

it('gives every failure one sentence of advice', async () => {
  const inputs = [
    { host: web.hostname, port: web.port },
    { host: web.hostname, port: web.port, username: 'root', password: 'nope' },
    { host: web.hostname, port: web.port, https: true },
    { host: '' },
    { host: '10.0.0.1', port: '99999' },
  ];
  for (const input of inputs) expectOneSentence((await readBouquets(input, OpenWebIfClient)).message);
});

it('asks for an address before connecting and rejects a bad port', async () => {
  expect(await readBouquets({ host: '' }, OpenWebIfClient)).toMatchObject({ ok: false, kind: 'input' });
  expect(await readBouquets({ host: '10.0.0.1', port: '99999' }, OpenWebIfClient)).toMatchObject({ ok: false, kind: 'input' });
  expect((await readBouquets({ host: 'root:pw@box' }, OpenWebIfClient)).message).not.toContain('pw');
});
