// The embedded broker on a shared network: without a login it takes clients on this machine only
// (anyone on the LAN could otherwise reboot the receiver), and says how to let others in; with a
// login, every client must give it. A predicate stands in for a LAN peer, since tests stay on loopback.
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../../src/mqtt/broker';
import { recordingLogger } from '../helpers/stack';

let broker: EmbeddedBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

/** Connects once; resolves with 'connected' or the CONNACK refusal code. */
async function tryConnect(url: string, options: mqtt.IClientOptions = {}): Promise<string | number> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  try {
    return await new Promise<string | number>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('error', (error: Error & { code?: number }) => resolve(error.code ?? error.message));
    });
  } finally {
    client.end(true);
  }
}

it('refuses anonymous clients from the network, once in the log with what to set, and takes local ones', async () => {
  const lines: string[] = [];
  broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1', log: recordingLogger(lines), isLocal: () => false });
  expect(await tryConnect(broker.url)).toBe(5);
  expect(await tryConnect(broker.url)).toBe(5);
  const refusals = lines.filter((l) => l.includes('refused a client'));
  expect(refusals).toHaveLength(1);
  expect(refusals[0]).toMatch(/^warn MQTT: the embedded broker refused a client at \S+: without mqtt\.username and mqtt\.password it only accepts clients on this machine; set both/);
  expect(lines.some((l) => l.includes('no login set: clients on this machine only'))).toBe(true);
  await broker.close();

  broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1', log: recordingLogger([]) });
  expect(await tryConnect(broker.url)).toBe('connected');
});

it('takes any client with the configured login, from anywhere, and no other', async () => {
  broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1', username: 'ha', password: 'pw-9182', log: recordingLogger([]), isLocal: () => false });
  expect(await tryConnect(broker.url, { username: 'ha', password: 'pw-9182' })).toBe('connected');
  expect(await tryConnect(broker.url, { username: 'ha', password: 'wrong' })).toBe(4);
  expect(await tryConnect(broker.url)).toBe(4);
});
