/**
 * Home Assistant MQTT discovery for one receiver: one device with its entities (power, channel
 * select, volume, mute, programme, recording, stream sensors, a few remote keys), each a retained
 * config on `<discoveryPrefix>/<component>/<node id>/<object id>/config`. The node id comes from the
 * box's identity (its MAC, else its host), so unique ids survive restarts and renames.
 */
import { ReceiverConfig } from '../config/types';
import { KeyName } from '../receiver/keys';
import { DeviceInfo } from '../receiver/types';
import { PLUGIN_NAME } from '../settings';
import { ChannelOptions } from './channel-options';
import { Component, discoveryTopic, ReceiverTopics, slugify } from './topics';

export interface DiscoveryInput {
  receiverName: string;
  receiver: Pick<ReceiverConfig, 'host' | 'port' | 'https'>;
  device: DeviceInfo;
  topics: ReceiverTopics;
  channels: ChannelOptions;
  /** Stream sensors only exist when this plugin runs the proxy. */
  proxyEnabled: boolean;
  discoveryPrefix: string;
  version: string;
}

export interface DiscoveryEntry {
  component: Component;
  objectId: string;
  topic: string;
  config: Record<string, unknown>;
}

/** Remote keys offered as buttons: what a dashboard needs to navigate the box's menus. */
export const KEY_BUTTONS: ReadonlyArray<{ key: KeyName; name: string; icon: string }> = [
  { key: 'CHANNEL_UP', name: 'Channel up', icon: 'mdi:arrow-up-bold' },
  { key: 'CHANNEL_DOWN', name: 'Channel down', icon: 'mdi:arrow-down-bold' },
  { key: 'OK', name: 'OK', icon: 'mdi:checkbox-blank-circle-outline' },
  { key: 'EXIT', name: 'Exit', icon: 'mdi:exit-to-app' },
  { key: 'MENU', name: 'Menu', icon: 'mdi:menu' },
  { key: 'INFO', name: 'Info', icon: 'mdi:information-outline' },
  { key: 'EPG', name: 'Guide', icon: 'mdi:television-guide' },
];

/** The device's node id in discovery topics and the stem of every unique id. */
export function nodeIdOf(device: DeviceInfo): string {
  return `xg2g_${slugify(device.identity, 'box')}`;
}

/** The box's web interface, without credentials (Home Assistant links to it). */
export function webInterfaceUrl(receiver: DiscoveryInput['receiver']): string {
  const host = receiver.host.includes(':') ? `[${receiver.host}]` : receiver.host;
  return `${receiver.https ? 'https' : 'http'}://${host}:${receiver.port}/`;
}

export function buildDiscovery(input: DiscoveryInput): DiscoveryEntry[] {
  const { device, topics: t, discoveryPrefix, channels } = input;
  const nodeId = nodeIdOf(device);
  const swVersion = [device.imageDistro, device.imageVersion].filter((s) => s).join(' ');
  const deviceBlock: Record<string, unknown> = {
    identifiers: [nodeId],
    name: input.receiverName,
    manufacturer: device.brand || 'Enigma2',
    model: device.model || device.boxtype || 'Enigma2 receiver',
    ...(swVersion ? { sw_version: swVersion } : {}),
    configuration_url: webInterfaceUrl(input.receiver),
    ...(device.mac ? { connections: [['mac', device.mac]] } : {}),
  };
  const origin = { name: PLUGIN_NAME, sw_version: input.version };
  // Receiver entities are unavailable while the plugin is offline or the box does not answer.
  const boxAvailability = {
    availability: [
      { topic: t.availability },
      { topic: t.field('reachable'), payload_available: 'true', payload_not_available: 'false' },
    ],
    availability_mode: 'all',
  };
  const proxyAvailability = { availability: [{ topic: t.availability }] };

  const entries: DiscoveryEntry[] = [];
  const add = (component: Component, objectId: string, config: Record<string, unknown>, availability: object = boxAvailability): void => {
    entries.push({
      component,
      objectId,
      topic: discoveryTopic(discoveryPrefix, component, nodeId, objectId),
      config: { ...config, unique_id: `${nodeId}_${objectId}`, ...availability, device: deviceBlock, origin },
    });
  };

  add('switch', 'power', {
    name: 'Power', icon: 'mdi:power', command_topic: t.command('power'), state_topic: t.field('power'),
    payload_on: 'ON', payload_off: 'OFF', state_on: 'ON', state_off: 'OFF',
  });
  if (channels.options.length > 0) {
    add('select', 'channel', {
      name: 'Channel', icon: 'mdi:television-classic', command_topic: t.command('channel'), state_topic: t.state,
      // 'None' = unknown: in standby, or on a channel outside the configured bouquets.
      value_template: "{{ value_json.channel.name if value_json.channel and value_json.channel.listed else 'None' }}",
      options: channels.options,
    });
  }
  add('number', 'volume', {
    name: 'Volume', icon: 'mdi:volume-high', command_topic: t.command('volume'), state_topic: t.field('volume'),
    min: 0, max: 100, step: 1, mode: 'slider', unit_of_measurement: '%',
  });
  add('switch', 'mute', {
    name: 'Mute', icon: 'mdi:volume-off', command_topic: t.command('mute'), state_topic: t.field('mute'),
    payload_on: 'ON', payload_off: 'OFF', state_on: 'ON', state_off: 'OFF',
  });
  add('sensor', 'programme', {
    name: 'Programme', icon: 'mdi:television-guide', state_topic: t.state,
    value_template: "{{ value_json.now.title[:255] if value_json.now else 'None' }}",
    json_attributes_topic: t.field('programme_info'),
  });
  add('binary_sensor', 'recording', {
    name: 'Recording', icon: 'mdi:record-rec', state_topic: t.field('recording'), payload_on: 'ON', payload_off: 'OFF',
  });
  add('binary_sensor', 'box_streaming', {
    name: 'Box streaming', icon: 'mdi:cast', state_topic: t.field('streaming'), payload_on: 'ON', payload_off: 'OFF',
    entity_category: 'diagnostic',
  });
  if (input.proxyEnabled) {
    add('sensor', 'streams', {
      name: 'Active streams', icon: 'mdi:play-network', state_topic: t.streams, value_template: '{{ value_json.sessions }}',
      state_class: 'measurement', json_attributes_topic: t.streams,
    }, proxyAvailability);
    add('sensor', 'stream_clients', {
      name: 'Stream clients', icon: 'mdi:account-multiple', state_topic: t.streams, value_template: '{{ value_json.clients }}',
      state_class: 'measurement',
    }, proxyAvailability);
    add('sensor', 'stream_bitrate', {
      name: 'Stream bitrate', state_topic: t.streams, value_template: '{{ value_json.bitrate_out }}',
      device_class: 'data_rate', unit_of_measurement: 'bit/s', state_class: 'measurement',
    }, proxyAvailability);
  }
  for (const b of KEY_BUTTONS) {
    add('button', `key_${b.key.toLowerCase()}`, { name: b.name, icon: b.icon, command_topic: t.command('key'), payload_press: b.key });
  }
  add('button', 'refresh', {
    name: 'Refresh', icon: 'mdi:refresh', command_topic: t.command('refresh'), payload_press: 'REFRESH', entity_category: 'diagnostic',
  }, proxyAvailability);
  return entries;
}
