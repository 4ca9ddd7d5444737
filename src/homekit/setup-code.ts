/**
 * The setup code of the TV accessory. Homebridge publishes external accessories with the code of
 * the bridge they belong to (a child bridge's own `_bridge.pin`, else the main bridge's), which a
 * plugin is not told, so it is read from the platform block or Homebridge's config.json.
 */
import { readFileSync } from 'node:fs';

const PIN = /^\d{3}-\d{2}-\d{3}$/;

export function setupCode(platformBlock: unknown, configPath: string): string | undefined {
  const own = (platformBlock as { _bridge?: { pin?: unknown } } | undefined)?._bridge?.pin;
  if (typeof own === 'string' && PIN.test(own)) return own;
  try {
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { bridge?: { pin?: unknown } };
    const pin = config.bridge?.pin;
    return typeof pin === 'string' && PIN.test(pin) ? pin : undefined;
  } catch {
    return undefined;
  }
}
