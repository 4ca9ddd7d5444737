/**
 * Home Assistant MQTT discovery for one receiver: one device with its entities (power, channel
 * select, volume, mute, programme and its times, recording, timers, channel logo, stream sensors,
 * remote keys and home-control buttons), each a retained config on
 * `<discoveryPrefix>/<component>/<node id>/<object id>/config`. The node id comes from the box's
 * identity (its MAC, else its host), so unique ids survive restarts and renames; the MAC is also the
 * device's connection, so Home Assistant merges it with the native enigma2 integration's device.
 *
 * Availability: every entity lists the bridge's topic (the connection's last will), so a crash
 * makes all of them unavailable. The power switch needs nothing more: it stays usable while the box
 * does not answer (it shows OFF, and ON wakes the box). Entities of the box add the receiver's
 * topic (`online` while the box answers); proxy entities add nothing (the proxy runs without the box).
 */
import { ReceiverConfig } from '../config/types';
import { KeyName } from '../receiver/keys';
import { DeviceInfo } from '../receiver/types';
import { MQTT_SUPPORT_URL, PLUGIN_NAME } from '../settings';
import { ChannelOptions } from './channel-options';
import { CommandName, Component, discoveryTopic, ReceiverTopics, slugify } from './topics';

export interface DiscoveryInput {
  receiverName: string;
  /** The receiver's topic slug: entity ids are made from it, not from display names. */
  slug: string;
  receiver: Pick<ReceiverConfig, 'host' | 'port' | 'https'>;
  device: DeviceInfo;
  topics: ReceiverTopics;
  /** `<prefix>/bridge/availability`. */
  bridgeAvailability: string;
  channels: ChannelOptions;
  /** Stream sensors only exist when this plugin runs the proxy. */
  proxyEnabled: boolean;
  /** The channel logo entity exists only when the proxy serves logos Home Assistant may fetch. */
  picons: boolean;
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
  { key: 'PLAY_PAUSE', name: 'Play/Pause', icon: 'mdi:play-pause' },
  { key: 'STOP', name: 'Stop', icon: 'mdi:stop' },
];

/** Home-control buttons: a command topic and the payload a press sends. */
export const CONTROL_BUTTONS: ReadonlyArray<{ id: string; name: string; icon: string; command: CommandName; payload: string; extra?: Record<string, unknown> }> = [
  { id: 'volume_up', name: 'Volume up', icon: 'mdi:volume-plus', command: 'volume', payload: 'UP' },
  { id: 'volume_down', name: 'Volume down', icon: 'mdi:volume-minus', command: 'volume', payload: 'DOWN' },
  { id: 'record_now', name: 'Record now', icon: 'mdi:record', command: 'record', payload: 'NOW' },
  { id: 'deep_standby', name: 'Deep standby', icon: 'mdi:power-sleep', command: 'power', payload: 'DEEP_STANDBY', extra: { entity_category: 'config' } },
  { id: 'reboot', name: 'Reboot', icon: 'mdi:restart', command: 'power', payload: 'REBOOT', extra: { device_class: 'restart', entity_category: 'config' } },
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
    // The native enigma2 integration names the same MAC: Home Assistant shows one device.
    ...(device.mac ? { connections: [['mac', device.mac]] } : {}),
  };
  const origin = { name: PLUGIN_NAME, sw_version: input.version, support_url: MQTT_SUPPORT_URL };
  const bridge = { topic: input.bridgeAvailability };
  const box = { topic: t.availability };
  const withBridge = { availability: [bridge], availability_mode: 'all' };
  const withBox = { availability: [bridge, box], availability_mode: 'all' };
  // The logo only means something while a channel is tuned.
  const withChannel = {
    availability: [bridge, box, { topic: t.state, value_template: "{{ 'online' if value_json.channel else 'offline' }}" }],
    availability_mode: 'all',
  };
  const entityStem = `xg2g_${input.slug}`;

  const entries: DiscoveryEntry[] = [];
  const add = (component: Component, objectId: string, config: Record<string, unknown>, availability: object = withBox): void => {
    entries.push({
      component,
      objectId,
      topic: discoveryTopic(discoveryPrefix, component, nodeId, objectId),
      config: {
        ...config,
        unique_id: `${nodeId}_${objectId}`,
        // Entity ids from the receiver's slug, not from the display names (which users rename and
        // Home Assistant translates); object_id for Home Assistant before 2025.10.
        default_entity_id: `${component}.${entityStem}_${objectId}`,
        object_id: `${entityStem}_${objectId}`,
        ...availability,
        device: deviceBlock,
        origin,
      },
    });
  };
  const programmeTime = (key: 'begin' | 'end'): string => `{{ value_json.now.${key} if value_json.now and value_json.now.${key} else 'None' }}`;

  add('switch', 'power', {
    name: 'Power', icon: 'mdi:power', command_topic: t.command('power'), state_topic: t.field('power'),
    payload_on: 'ON', payload_off: 'OFF', state_on: 'ON', state_off: 'OFF',
  }, withBridge);
  if (channels.options.length > 0) {
    add('select', 'channel', {
      name: 'Channel', icon: 'mdi:television-classic', command_topic: t.command('channel'), state_topic: t.state,
      // 'None' is Home Assistant's "unknown" (in standby, or on a channel outside the configured
      // bouquets); no option is named so (see channel-options.ts).
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
  add('sensor', 'programme_begin', {
    name: 'Programme begin', icon: 'mdi:clock-start', state_topic: t.state, device_class: 'timestamp', value_template: programmeTime('begin'),
  });
  add('sensor', 'programme_end', {
    name: 'Programme end', icon: 'mdi:clock-end', state_topic: t.state, device_class: 'timestamp', value_template: programmeTime('end'),
  });
  add('binary_sensor', 'recording', {
    name: 'Recording', icon: 'mdi:record-rec', state_topic: t.field('recording'), payload_on: 'ON', payload_off: 'OFF',
  });
  add('sensor', 'timers', {
    name: 'Timers', icon: 'mdi:timer-outline', state_topic: t.timers, value_template: '{{ value_json | length }}',
    // Attributes must be a JSON object; the topic holds a list.
    json_attributes_topic: t.timers, json_attributes_template: "{{ {'timers': value_json} | tojson }}",
  });
  add('binary_sensor', 'box_streaming', {
    name: 'Box streaming', icon: 'mdi:cast', state_topic: t.field('streaming'), payload_on: 'ON', payload_off: 'OFF',
    entity_category: 'diagnostic',
  });
  if (input.picons) add('image', 'picon', { name: 'Channel logo', icon: 'mdi:image', url_topic: t.picon }, withChannel);
  if (input.proxyEnabled) {
    add('sensor', 'streams', {
      name: 'Active streams', icon: 'mdi:play-network', state_topic: t.streams, value_template: '{{ value_json.sessions }}',
      state_class: 'measurement', json_attributes_topic: t.streams,
    }, withBridge);
    add('sensor', 'stream_clients', {
      name: 'Stream clients', icon: 'mdi:account-multiple', state_topic: t.streams, value_template: '{{ value_json.clients }}',
      state_class: 'measurement',
    }, withBridge);
    add('sensor', 'stream_bitrate', {
      name: 'Stream bitrate', state_topic: t.streams, value_template: '{{ value_json.bitrate_out }}',
      device_class: 'data_rate', unit_of_measurement: 'bit/s', state_class: 'measurement',
    }, withBridge);
  }
  for (const b of KEY_BUTTONS) {
    add('button', `key_${b.key.toLowerCase()}`, { name: b.name, icon: b.icon, command_topic: t.command('key'), payload_press: b.key });
  }
  for (const b of CONTROL_BUTTONS) {
    add('button', b.id, { name: b.name, icon: b.icon, command_topic: t.command(b.command), payload_press: b.payload, ...b.extra });
  }
  add('button', 'refresh', {
    name: 'Refresh', icon: 'mdi:refresh', command_topic: t.command('refresh'), payload_press: 'REFRESH', entity_category: 'diagnostic',
  }, withBridge);
  return entries;
}
