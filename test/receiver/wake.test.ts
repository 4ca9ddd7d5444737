// Wake-on-LAN packets: the exact bytes, the default targets from the network interfaces, and a
// sender that reports instead of throwing (real UDP on loopback).
import { createSocket } from 'node:dgram';
import { localBroadcasts, magicPacket, parseWakeTarget, sendMagicPacket, wakeTargets } from '../../src/receiver/wake';

it('builds the 102-byte magic packet: six 0xFF, then the MAC sixteen times', () => {
  const packet = magicPacket('00-1D-EC-0E-4A-31')!;
  expect(packet).toHaveLength(102);
  expect(packet.subarray(0, 6)).toEqual(Buffer.alloc(6, 0xff));
  for (let i = 0; i < 16; i++) expect(packet.subarray(6 + i * 6, 12 + i * 6)).toEqual(Buffer.from([0x00, 0x1d, 0xec, 0x0e, 0x4a, 0x31]));
  expect(magicPacket('00:00:00:00:00:00')).toBeUndefined();
  expect(magicPacket('not a mac')).toBeUndefined();
});

it('reads targets with an optional port and derives each subnet\'s broadcast', () => {
  expect(parseWakeTarget('192.168.1.255')).toEqual({ address: '192.168.1.255', port: 9 });
  expect(parseWakeTarget('10.0.0.255:7')).toEqual({ address: '10.0.0.255', port: 7 });
  expect(parseWakeTarget('box.local')).toBeUndefined();
  expect(localBroadcasts({
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', mac: 'aa:bb:cc:dd:ee:ff', internal: false, cidr: '192.168.1.20/24' },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: 'aa:bb:cc:dd:ee:ff', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
    ],
    wlan0: [{ address: '10.1.2.3', netmask: '255.255.240.0', family: 'IPv4', mac: 'aa:bb:cc:dd:ee:00', internal: false, cidr: '10.1.2.3/20' }],
  })).toEqual(['192.168.1.255', '10.1.15.255']);
  expect(wakeTargets([])[0]).toEqual({ address: '255.255.255.255', port: 9 });
  expect(wakeTargets(['192.168.1.255:9'])).toEqual([{ address: '192.168.1.255', port: 9 }]);
});

it('sends to every target and reports bad ones instead of throwing', async () => {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  try {
    const port = socket.address().port;
    const result = await sendMagicPacket('00:1d:ec:0e:4a:31', [`127.0.0.1:${port}`, 'nonsense']);
    expect(result.sent).toEqual([`127.0.0.1:${port}`]);
    expect(result.failed).toEqual([{ target: 'nonsense', reason: 'not an IPv4 address with an optional port' }]);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual([magicPacket('00:1d:ec:0e:4a:31')]);
    const bad = await sendMagicPacket('xx', [`127.0.0.1:${port}`]);
    expect(bad).toEqual({ sent: [], failed: [{ target: `127.0.0.1:${port}`, reason: '"xx" is not a MAC address' }] });
  } finally {
    socket.close();
  }
});
