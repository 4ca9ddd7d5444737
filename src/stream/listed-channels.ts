/**
 * Every receiver's channels as players and media servers see them: one list per receiver, in
 * bouquet order, a service listed by an earlier receiver left out (the proxy streams it from the
 * first), and the numbers of the receiver at place i moved up by i × CHANNEL_NUMBER_STEP, so the
 * playlist, the lineup and the web page show the same unique numbers.
 */
import type { Channel } from '../receiver/channels';
import { CHANNEL_NUMBER_STEP } from '../settings';
import type { ProxyReceiver } from './proxy-types';

export function channelsByReceiver(receivers: readonly Pick<ProxyReceiver, 'channels'>[]): Channel[][] {
  const refs = new Set<string>();
  const numbers = new Set<number>();
  return receivers.map((receiver, index) => {
    const listed: Channel[] = [];
    for (const channel of receiver.channels().all) {
      const number = channel.number + index * CHANNEL_NUMBER_STEP;
      // Only a receiver with more channels than the step could collide; its overflow is left out.
      if (refs.has(channel.ref.ref) || numbers.has(number)) continue;
      refs.add(channel.ref.ref);
      numbers.add(number);
      listed.push(index === 0 ? channel : { ...channel, number });
    }
    return listed;
  });
}

export function listedChannels(receivers: readonly Pick<ProxyReceiver, 'channels'>[]): Channel[] {
  return channelsByReceiver(receivers).flat();
}
