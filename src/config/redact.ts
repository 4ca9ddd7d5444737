/**
 * redactConfig: a deep copy safe to log or print (doctor, debug output): passwords and tokens
 * become '***' (empty ones stay '' so "not set" remains visible), and URL user-info passwords too.
 */
import type { Config } from './types';
import { redactUrl } from './values';

export const REDACTED = '***';

const hide = (secret: string): string => (secret === '' ? '' : REDACTED);

export function redactConfig(config: Config): Config {
  return {
    ...config,
    receivers: config.receivers.map((r) => ({
      ...r,
      bouquets: [...r.bouquets],
      password: hide(r.password),
      streamTarget: redactUrl(r.streamTarget),
    })),
    proxy: {
      ...config.proxy,
      token: hide(config.proxy.token),
      publicUrl: redactUrl(config.proxy.publicUrl),
      audio: { ...config.proxy.audio },
      hls: { ...config.proxy.hls },
    },
    api: { ...config.api },
    mqtt: {
      ...config.mqtt,
      url: redactUrl(config.mqtt.url),
      password: hide(config.mqtt.password),
      embeddedBroker: { ...config.mqtt.embeddedBroker },
    },
    epg: { ...config.epg },
    hdhr: { ...config.hdhr },
    camera: { ...config.camera },
  };
}
