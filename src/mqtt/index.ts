/**
 * MQTT for the core (App): the embedded broker when configured, and the bridge over all receivers
 * when MQTT is enabled. Never throws: a broker that cannot start or be reached is logged, and the
 * rest of the app (HomeKit, the proxy) runs on.
 */
import { MqttConfig, ProxyConfig } from '../config/types';
import { Logger } from '../logger';
import { EmbeddedBroker } from './broker';
import type { MqttBridge } from './bridge';
import type { BridgedRuntime } from './receiver-bridge';

// The bridge is only a type here (import it from './bridge'): its module loads the MQTT client,
// which a setup with only the embedded broker does not need.
export { EmbeddedBroker } from './broker';
export type { MqttBridge, MqttBridgeOptions } from './bridge';
export { bridgeTopics, receiverTopics, slugify } from './topics';

export interface MqttServiceOptions {
  config: MqttConfig;
  receivers: BridgedRuntime[];
  proxyEnabled: boolean;
  /** The proxy's settings and its listener's URL once it listens (for the channel logo entity). */
  proxy?: Pick<ProxyConfig, 'publicUrl' | 'listen' | 'token'>;
  proxyUrl?: () => string | undefined;
  version: string;
  log: Logger;
}

export interface MqttService {
  readonly broker: EmbeddedBroker | undefined;
  readonly bridge: MqttBridge | undefined;
  /** Publishes `offline` (every receiver, then the bridge), disconnects, then closes the embedded broker; never rejects. */
  stop(): Promise<void>;
}

export async function startMqtt(options: MqttServiceOptions): Promise<MqttService> {
  const { config, receivers, log } = options;
  let broker: EmbeddedBroker | undefined;
  if (config.embeddedBroker.enabled) {
    try {
      broker = await EmbeddedBroker.start({ port: config.embeddedBroker.port, username: config.username, password: config.password, log });
    } catch (error) {
      log.error(`MQTT: ${(error as Error).message}.`);
    }
  }
  let bridge: MqttBridge | undefined;
  if (config.enabled && receivers.length > 0) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MqttBridge } = require('./bridge') as typeof import('./bridge');
    bridge = new MqttBridge({
      config, receivers, proxyEnabled: options.proxyEnabled, proxy: options.proxy, proxyUrl: options.proxyUrl, version: options.version, log,
    });
    bridge.start();
  }
  let stopping: Promise<void> | undefined;
  return {
    broker,
    bridge,
    stop() {
      stopping ??= (async () => {
        await bridge?.stop();
        await broker?.close().catch((error: Error) => log.warn(`MQTT: closing the embedded broker failed: ${error.message}`));
      })();
      return stopping;
    },
  };
}
