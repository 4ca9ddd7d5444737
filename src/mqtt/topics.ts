/**
 * Every MQTT topic homebridge-xg2g publishes or listens to, in one place, so the bridge, Home
 * Assistant discovery, the tests and the README agree. `<receiver>` is a stable slug of the
 * receiver's configured name ('Living Room' → 'living_room').
 *
 * Availability, with one connection for the whole plugin:
 * - `<prefix>/bridge/availability` is the connection's own: `online` once the broker acknowledged
 *   the command subscriptions, `offline` on a clean stop and, as the last will, when the process
 *   dies or the network drops. It is the only topic the broker can turn `offline` by itself.
 * - `<prefix>/<receiver>/availability` is the receiver's: `online` while the bridge is online (so
 *   its commands are heard) and the box answers, `offline` while the box does not answer (deep
 *   standby, unplugged) and on a clean stop. After a crash it keeps its last value, so whoever
 *   needs certainty combines it with the bridge topic, as the Home Assistant entities do
 *   (`availability_mode: all`, as Zigbee2MQTT does with its bridge and device topics).
 */

/** Commands on `<prefix>/<receiver>/<name>/set`. */
export const SET_COMMANDS = ['power', 'channel', 'volume', 'mute', 'key', 'refresh', 'record', 'message'] as const;
/** Timer commands, on `<prefix>/<receiver>/timer/<action>`. */
export const TIMER_COMMANDS = ['timer/add', 'timer/delete'] as const;
export const COMMANDS = [...SET_COMMANDS, ...TIMER_COMMANDS] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Retained plain-text topics, one per field of the receiver's state. */
export const STATE_FIELDS = [
  'reachable', 'power', 'channel', 'channel_ref', 'volume', 'mute', 'recording', 'streaming',
  'programme', 'programme_next', 'programme_info',
] as const;
export type StateField = (typeof STATE_FIELDS)[number];

/** The first level under the prefix that belongs to the bridge itself; no receiver may slug to it. */
export const BRIDGE_SLUG = 'bridge';

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

/**
 * Slugs for all receivers in config order; names that slug alike get `_2`, `_3` … after the first.
 * A receiver named "Bridge" becomes `bridge_2`: `<prefix>/bridge/…` is the bridge's own.
 */
export function receiverSlugs(names: readonly string[]): string[] {
  const used = new Set<string>([BRIDGE_SLUG]);
  return names.map((name) => {
    const base = slugify(name);
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}_${n}`;
    used.add(slug);
    return slug;
  });
}

export interface BridgeTopics {
  /** `online` / `offline`, retained; `offline` is also the connection's last will. */
  readonly availability: string;
}

export function bridgeTopics(prefix: string): BridgeTopics {
  return { availability: `${prefix}/${BRIDGE_SLUG}/availability` };
}

export interface ReceiverTopics {
  /** `<prefix>/<receiver>`. */
  readonly base: string;
  /** `online` / `offline`, retained: the bridge hears this receiver's commands and the box answers. */
  readonly availability: string;
  /** The whole state as one JSON document, retained. */
  readonly state: string;
  /** Plain-text state field topics, retained. */
  field(name: StateField): string;
  /** The box's timers as a JSON list, retained. */
  readonly timers: string;
  /** The tuned channel's logo as a URL of the proxy (`/picon/<ref>.png`), retained. */
  readonly picon: string;
  /** Aggregate of the proxy's sessions for this receiver, retained JSON. */
  readonly streams: string;
  /** One active session, retained JSON; cleared with an empty payload when the session ends. */
  stream(channelId: string): string;
  /** Wildcard over all session topics (to find ones left behind by an earlier run). */
  readonly streamsWildcard: string;
  command(name: CommandName): string;
  /** Wildcard matching every `…/set` command topic of this receiver. */
  readonly commandsWildcard: string;
  /** Everything to subscribe to for this receiver's commands (the wildcard and the timer topics). */
  readonly commandSubscriptions: readonly string[];
  /** Rejected and refused commands, as a sentence; not retained. */
  readonly error: string;
  /** The answer to a yes/no message: `yes`, `no` or `none` (no answer in time); not retained. */
  readonly messageAnswer: string;
  /** The same answer with its question, as JSON; not retained. */
  readonly messageResult: string;
  /** Which command a topic is, or undefined for any other topic. */
  commandOf(topic: string): CommandName | undefined;
  /** The channel id of a per-session topic, or undefined for any other topic. */
  streamOf(topic: string): string | undefined;
}

/** How a command's topic ends, as error sentences name it: `power/set`, `timer/add`. */
export function commandLabel(name: CommandName): string {
  return (TIMER_COMMANDS as readonly string[]).includes(name) ? name : `${name}/set`;
}

export function receiverTopics(prefix: string, slug: string): ReceiverTopics {
  const base = `${prefix}/${slug}`;
  return {
    base,
    availability: `${base}/availability`,
    state: `${base}/state`,
    field: (name) => `${base}/${name}`,
    timers: `${base}/timers`,
    picon: `${base}/picon`,
    streams: `${base}/streams`,
    stream: (id) => `${base}/streams/${id}`,
    streamsWildcard: `${base}/streams/+`,
    command: (name) => `${base}/${commandLabel(name)}`,
    commandsWildcard: `${base}/+/set`,
    commandSubscriptions: [`${base}/+/set`, ...TIMER_COMMANDS.map((name) => `${base}/${name}`)],
    error: `${base}/error`,
    messageAnswer: `${base}/message/answer`,
    messageResult: `${base}/message/result`,
    commandOf(topic) {
      if (!topic.startsWith(`${base}/`)) return undefined;
      const rest = topic.slice(base.length + 1);
      if ((TIMER_COMMANDS as readonly string[]).includes(rest)) return rest as CommandName;
      if (!rest.endsWith('/set')) return undefined;
      const name = rest.slice(0, -'/set'.length);
      return (SET_COMMANDS as readonly string[]).includes(name) ? (name as CommandName) : undefined;
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
export type Component = 'switch' | 'select' | 'number' | 'sensor' | 'binary_sensor' | 'button' | 'image';

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
