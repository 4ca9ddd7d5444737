/**
 * MQTT as a part of `xg2g demo`: the embedded broker (on 1883 when free), which the core part after
 * it publishes to (receiver state, streams, Home Assistant discovery), so `mosquitto_sub` (or Home
 * Assistant pointed at the broker) shows live state and takes commands.
 */
// Straight from the modules, not '../mqtt': that would load the MQTT client into every `xg2g` command.
import { EmbeddedBroker } from '../mqtt/broker';
import { receiverTopics, slugify } from '../mqtt/topics';
import { MQTT_EMBEDDED_BROKER_PORT_DEFAULT, MQTT_PREFIX_DEFAULT } from '../settings';
import type { DemoPart } from './demo';
import { portFree } from './ports';
import { demoLogger } from './io';

/** The name the core part gives the simulated receiver (its MQTT topics use the slug). */
export const DEMO_RECEIVER_NAME = 'Simulator';

export const mqttPart: DemoPart = {
  title: 'MQTT (embedded broker, Home Assistant discovery)',
  async start(ctx) {
    const log = demoLogger(ctx.io, 'mqtt');
    const preferred = (await portFree(ctx.host, MQTT_EMBEDDED_BROKER_PORT_DEFAULT)) ? MQTT_EMBEDDED_BROKER_PORT_DEFAULT : 0;
    // The port may be taken between the check and the bind: then any free one will do.
    const broker = await EmbeddedBroker.start({ port: preferred, host: ctx.host, log })
      .catch(() => EmbeddedBroker.start({ port: 0, host: ctx.host, log }));
    ctx.mqttUrl = broker.url;
    const host = new URL(broker.url).hostname;
    const t = receiverTopics(MQTT_PREFIX_DEFAULT, slugify(DEMO_RECEIVER_NAME));
    const example = ctx.channels?.[1] ?? ctx.channels?.[0];
    const lines = [
      `broker                     ${broker.url}  (point Home Assistant's MQTT integration here)`,
      `watch every topic          mosquitto_sub -h ${host} -p ${broker.port} -t '${MQTT_PREFIX_DEFAULT}/#' -v`,
      `watch discovery            mosquitto_sub -h ${host} -p ${broker.port} -t 'homeassistant/#' -v`,
    ];
    if (example) lines.push(`tune a channel             mosquitto_pub -h ${host} -p ${broker.port} -t '${t.command('channel')}' -m '${example.name}'`);
    lines.push(`press a remote key         mosquitto_pub -h ${host} -p ${broker.port} -t '${t.command('key')}' -m MENU`);
    return { lines, close: () => broker.close() };
  },
};
