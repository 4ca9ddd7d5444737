/**
 * The proxy's base URL as Home Assistant reaches it, for URLs that go into MQTT payloads (the
 * channel logo's `/picon/<ref>.png`). Home Assistant fetches those itself, often from another
 * host, so the listener's own URL (127.0.0.1 for a listener on every interface) is not enough.
 */
import { parseListen } from '../config/listen';
import { ProxyConfig } from '../config/types';
import { lanAddress } from '../stream/listener';

/**
 * `proxy.publicUrl` when set; else the listener's URL, with this machine's LAN address instead of
 * 127.0.0.1 when it listens on every interface. Undefined while the proxy does not listen, and
 * whenever the proxy wants an access token: the URL would have to carry it, and MQTT payloads
 * never carry secrets.
 */
export function proxyBaseForHomeAssistant(proxy: Pick<ProxyConfig, 'publicUrl' | 'listen' | 'token'>, listenerUrl: string | undefined): string | undefined {
  if (proxy.token) return undefined;
  if (proxy.publicUrl) return proxy.publicUrl.replace(/\/+$/, '');
  if (!listenerUrl) return undefined;
  let host: string | undefined;
  try {
    host = parseListen(proxy.listen).host;
  } catch {
    return listenerUrl;
  }
  const everywhere = host === undefined || host === '0.0.0.0' || host === '::';
  const lan = everywhere ? lanAddress() : undefined;
  if (!lan) return listenerUrl;
  const url = new URL(listenerUrl);
  url.hostname = lan;
  return url.origin;
}
