/**
 * Every MQTT topic homebridge-xg2g publishes or listens to, in one place, so the bridge, Home
 * Assistant discovery, the tests and the README agree. `<receiver>` is a stable slug of the
 * receiver's configured name ('Living Room' → 'living_room').
 */

/** Commands accepted on `<prefix>/<receiver>/<command>/set`. */
export const COMMANDS = ['power', 'channel', 'volume', 'mute', 'key', 'refresh'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Retained plain-text topics, one per field of the receiver's state. */
export const STATE_FIELDS = [
  'reachable', 'power', 'channel', 'channel_ref', 'volume', 'mute', 'recording', 'streaming',
  'programme', 'programme_next', 'programme_info',
] as const;
export type StateField = (typeof STATE_FIELDS)[number];

/**
 * A topic-safe, stable name: lower case ASCII letters, digits and single underscores. Accents are
 * dropped rather than replaced ('Küche' → 'kuche'), so the slug reads like the name.
 */
export function slugify(name: string, fallback = 'receiver'): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return slug || fallback;
}

/** Slugs for all receivers in config order; names that slug alike get `_2`, `_3` … after the first. */
export function receiverSlugs(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const base = slugify(name);
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}_${n}`;
    used.add(slug);
    return slug;
  });
}

export interface ReceiverTopics {
  /** `<prefix>/<receiver>`. */
  readonly base: string;
  /** `online` / `offline`, retained; `offline` is also the connection's last will. */
  readonly availability: string;
  /** The whole state as one JSON document, retained. */
  readonly state: string;
  /** Plain-text state field topics, retained. */
  field(name: StateField): string;
  /** Aggregate of the proxy's sessions for this receiver, retained JSON. */
  readonly streams: string;
  /** One active session, retained JSON; cleared with an empty payload when the session ends. */
  stream(channelId: string): string;
  /** Wildcard over all session topics (to find ones left behind by an earlier run). */
  readonly streamsWildcard: string;
  command(name: CommandName): string;
  /** Wildcard matching every command topic of this receiver. */
  readonly commandsWildcard: string;
  /** Rejected commands, as a sentence; not retained. */
  readonly error: string;
  /** Which command a topic is, or undefined for any other topic. */
  commandOf(topic: string): CommandName | undefined;
  /** The channel id of a per-session topic, or undefined for any other topic. */
  streamOf(topic: string): string | undefined;
}

export function receiverTopics(prefix: string, slug: string): ReceiverTopics {
  const base = `${prefix}/${slug}`;
  return {
    base,
    availability: `${base}/availability`,
    state: `${base}/state`,
    field: (name) => `${base}/${name}`,
    streams: `${base}/streams`,
    stream: (id) => `${base}/streams/${id}`,
    streamsWildcard: `${base}/streams/+`,
    command: (name) => `${base}/${name}/set`,
    commandsWildcard: `${base}/+/set`,
    error: `${base}/error`,
    commandOf(topic) {
      if (!topic.startsWith(`${base}/`) || !topic.endsWith('/set')) return undefined;
      const name = topic.slice(base.length + 1, -'/set'.length);
      return (COMMANDS as readonly string[]).includes(name) ? (name as CommandName) : undefined;
    },
    streamOf(topic) {
      const start = `${base}/streams/`;
      if (!topic.startsWith(start)) return undefined;
      const id = topic.slice(start.length);
      return id !== '' && !id.includes('/') ? id : undefined;
    },
  };
}

/** Home Assistant entity platforms used by discovery. */
export type Component = 'switch' | 'select' | 'number' | 'sensor' | 'binary_sensor' | 'button';

/** `<discoveryPrefix>/<component>/<node id>/<object id>/config` (Home Assistant's layout). */
export function discoveryTopic(discoveryPrefix: string, component: Component, nodeId: string, objectId: string): string {
  return `${discoveryPrefix}/${component}/${nodeId}/${objectId}/config`;
}

/** Every discovery config of one node, for finding entities an earlier run created. */
export function discoveryWildcard(discoveryPrefix: string, nodeId: string): string {
  return `${discoveryPrefix}/+/${nodeId}/+/config`;
}

/** True when `topic` is one of `nodeId`'s discovery configs. */
export function isDiscoveryTopicOf(topic: string, discoveryPrefix: string, nodeId: string): boolean {
  const parts = topic.split('/');
  const prefixParts = discoveryPrefix.split('/').length;
  return topic.startsWith(`${discoveryPrefix}/`) && parts.length === prefixParts + 4
    && parts[prefixParts + 1] === nodeId && parts[parts.length - 1] === 'config';
}

/** Home Assistant's birth and last-will topic: `online` after it (re)starts. */
export function discoveryStatusTopic(discoveryPrefix: string): string {
  return `${discoveryPrefix}/status`;
}
