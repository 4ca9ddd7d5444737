// Home Assistant's MQTT discovery schema, as far as this project uses it: per platform the keys a
// config must have, the keys it may have, and each key's type. Written from Home Assistant's MQTT
// integration docs (home-assistant.io/integrations/<platform>.mqtt, "Configuration Variables") and
// its schemas (homeassistant/components/mqtt/schemas.py: MQTT_ENTITY_COMMON_SCHEMA, the
// availability, device and origin schemas; <platform>.py: PLATFORM_SCHEMA_MODERN). Home Assistant
// drops unknown keys of a discovery config silently (REMOVE_EXTRA) and rejects the whole entity
// for a wrong type or a missing required key, so both are errors here: a key it drops is a typo.
//
// Deliberately left out: the abbreviated key forms (`stat_t`, …; this project writes full names),
// device-based discovery (`platform`, `components`), and keys for features not used here.

type Check = (value: unknown) => string | undefined;

const isString = (v: unknown): v is string => typeof v === 'string';

const string: Check = (v) => (isString(v) ? undefined : 'is not a string');
const nonEmpty: Check = (v) => (isString(v) && v.trim() !== '' ? undefined : 'is not a non-empty string');
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean');
const number: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'is not a number');
const integer: Check = (v) => (Number.isInteger(v) ? undefined : 'is not a whole number');
const oneOf = (...values: string[]): Check => (v) => (isString(v) && values.includes(v) ? undefined : `is not one of ${values.join(', ')}`);
const nullable = (check: Check): Check => (v) => (v === null ? undefined : check(v));
const url: Check = (v) => (isString(v) && /^https?:\/\/[^\s/]+/.test(v) ? undefined : 'is not an http(s) URL');
/** `mdi:power`: a prefix and a name. */
const icon: Check = (v) => (isString(v) && /^[a-z0-9-]+:[a-z0-9-]+$/.test(v) ? undefined : 'is not an icon like mdi:power');
/** Home Assistant renders it with Jinja: it must at least be a string, and balanced. */
const template: Check = (v) => {
  if (!isString(v)) return 'is not a template string';
  const opens = (v.match(/\{\{|\{%/g) ?? []).length;
  const closes = (v.match(/\}\}|%\}/g) ?? []).length;
  return opens === closes ? undefined : 'has unbalanced {{ }}';
};
/** A topic Home Assistant publishes to: no wildcards, no empty levels at the ends. */
const publishTopic: Check = (v) => (isString(v) && v !== '' && !/[+#]/.test(v) && !v.includes('\u0000') ? undefined : 'is not a publish topic');
/** A topic it subscribes to (wildcards allowed, but only as whole levels). */
const subscribeTopic: Check = (v) => {
  if (!isString(v) || v === '') return 'is not a subscribe topic';
  return v.split('/').every((level, i, all) => (!level.includes('+') || level === '+') && (!level.includes('#') || (level === '#' && i === all.length - 1)))
    ? undefined : 'has a misplaced wildcard';
};
const listOf = (check: Check, min = 0): Check => (v) => {
  if (!Array.isArray(v)) return 'is not a list';
  if (v.length < min) return `has fewer than ${min} item(s)`;
  for (const [i, item] of v.entries()) {
    const problem = check(item);
    if (problem) return `[${i}] ${problem}`;
  }
  return undefined;
};
const object = (fields: Record<string, Check>, required: string[] = [], rule?: (o: Record<string, unknown>) => string | undefined): Check => (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not an object';
  const o = v as Record<string, unknown>;
  for (const key of required) if (o[key] === undefined) return `lacks ${key}`;
  for (const [key, value] of Object.entries(o)) {
    if (!fields[key]) return `has the unknown key ${key}`;
    const problem = fields[key](value);
    if (problem) return `.${key} ${problem}`;
  }
  return rule?.(o);
};

/** schemas.py: the availability list. */
const availabilityItem = object({ topic: subscribeTopic, payload_available: string, payload_not_available: string, value_template: template }, ['topic']);

/** schemas.py: MQTT_ENTITY_DEVICE_INFO_SCHEMA (at least one of identifiers and connections). */
const device = object({
  identifiers: (v) => (isString(v) ? undefined : listOf(string)(v)),
  connections: listOf((pair) => (Array.isArray(pair) && pair.length === 2 && pair.every(isString) ? undefined : 'is not a [type, id] pair')),
  manufacturer: string, model: string, model_id: string, name: string, hw_version: string, serial_number: string,
  sw_version: string, via_device: string, suggested_area: string, configuration_url: url,
}, [], (o) => ((Array.isArray(o.identifiers) ? o.identifiers.length > 0 : !!o.identifiers) || (Array.isArray(o.connections) && o.connections.length > 0)
  ? undefined : 'has neither identifiers nor connections'));

/** schemas.py: MQTT_ORIGIN_INFO_SCHEMA. */
const origin = object({ name: nonEmpty, sw_version: string, support_url: url }, ['name']);

/** Keys every entity platform takes (availability, entity and MQTT options). */
const COMMON: Record<string, Check> = {
  availability: listOf(availabilityItem, 1),
  availability_mode: oneOf('all', 'any', 'latest'),
  availability_template: template,
  availability_topic: subscribeTopic,
  payload_available: string,
  payload_not_available: string,
  device,
  origin,
  enabled_by_default: boolean,
  entity_category: oneOf('config', 'diagnostic'),
  entity_picture: url,
  icon,
  json_attributes_topic: subscribeTopic,
  json_attributes_template: template,
  // `<platform>.<object id>`, checked against the platform below. Home Assistant 2025.10 and later.
  default_entity_id: string,
  // The older form, dropped by Home Assistant from 2026.4 (REMOVE_EXTRA), read before 2025.10.
  object_id: (v) => (isString(v) && /^[a-z0-9_]+$/.test(v) ? undefined : 'is not an object id'),
  unique_id: nonEmpty,
  encoding: string,
  qos: (v) => ([0, 1, 2].includes(v as number) ? undefined : 'is not 0, 1 or 2'),
  name: nullable(string),
};

export interface PlatformSchema {
  required: string[];
  fields: Record<string, Check>;
  /** Rules between keys (exclusive pairs, conditions). */
  rule?: (config: Record<string, unknown>) => string | undefined;
}

const SENSOR_DEVICE_CLASSES = [
  'apparent_power', 'aqi', 'area', 'atmospheric_pressure', 'battery', 'blood_glucose_concentration', 'carbon_dioxide', 'carbon_monoxide',
  'current', 'data_rate', 'data_size', 'date', 'distance', 'duration', 'energy', 'energy_distance', 'energy_storage', 'enum', 'frequency',
  'gas', 'humidity', 'illuminance', 'irradiance', 'moisture', 'monetary', 'nitrogen_dioxide', 'nitrogen_monoxide', 'nitrous_oxide', 'ozone',
  'ph', 'pm1', 'pm10', 'pm25', 'power', 'power_factor', 'precipitation', 'precipitation_intensity', 'pressure', 'reactive_power',
  'signal_strength', 'sound_pressure', 'speed', 'sulphur_dioxide', 'temperature', 'timestamp', 'volatile_organic_compounds',
  'volatile_organic_compounds_parts', 'voltage', 'volume', 'volume_flow_rate', 'volume_storage', 'water', 'weight', 'wind_direction', 'wind_speed',
];

/** Per platform: <platform>.mqtt docs and <platform>.py PLATFORM_SCHEMA_MODERN. */
export const HA_SCHEMA: Record<string, PlatformSchema> = {
  switch: {
    required: ['command_topic'],
    fields: {
      command_topic: publishTopic, command_template: template, device_class: nullable(oneOf('outlet', 'switch')), optimistic: boolean,
      payload_on: string, payload_off: string, state_on: string, state_off: string, retain: boolean, state_topic: subscribeTopic, value_template: template,
    },
  },
  select: {
    required: ['command_topic', 'options'],
    fields: {
      command_topic: publishTopic, command_template: template, optimistic: boolean, retain: boolean, state_topic: subscribeTopic, value_template: template,
      // Options are shown and sent as they are; "None" (any case) is Home Assistant's "unknown" state and can never be selected.
      options: listOf((o) => (isString(o) && o.toLowerCase() !== 'none' ? undefined : 'is not a selectable option')),
    },
    rule: (c) => (Array.isArray(c.options) && new Set(c.options).size !== c.options.length ? 'options repeat' : undefined),
  },
  number: {
    required: ['command_topic'],
    fields: {
      command_topic: publishTopic, command_template: template, device_class: nullable(string), min: number, max: number, step: number,
      mode: oneOf('auto', 'box', 'slider'), optimistic: boolean, payload_reset: string, retain: boolean, state_topic: subscribeTopic,
      unit_of_measurement: nullable(string), value_template: template,
    },
    rule: (c) => ((c.min as number ?? 1) >= (c.max as number ?? 100) ? 'min is not below max'
      : c.step !== undefined && (c.step as number) < 0.001 ? 'step is below 0.001' : undefined),
  },
  sensor: {
    required: ['state_topic'],
    fields: {
      state_topic: subscribeTopic, value_template: template, device_class: nullable(oneOf(...SENSOR_DEVICE_CLASSES)), expire_after: integer,
      force_update: boolean, last_reset_value_template: template, options: listOf(string, 1),
      state_class: oneOf('measurement', 'measurement_angle', 'total', 'total_increasing'), suggested_display_precision: integer,
      unit_of_measurement: nullable(string),
    },
    // sensor/__init__.py: timestamp and date sensors have no state class; enum sensors need options.
    rule: (c) => (c.device_class === 'timestamp' && (c.state_class || c.unit_of_measurement) ? 'a timestamp sensor takes no state_class or unit'
      : (c.options !== undefined) !== (c.device_class === 'enum') ? 'options go with device_class enum' : undefined),
  },
  binary_sensor: {
    required: ['state_topic'],
    fields: {
      state_topic: subscribeTopic, value_template: template, device_class: nullable(string), expire_after: integer, force_update: boolean,
      off_delay: integer, payload_on: string, payload_off: string,
    },
  },
  button: {
    required: ['command_topic'],
    fields: {
      command_topic: publishTopic, command_template: template, device_class: nullable(oneOf('identify', 'restart', 'update')),
      payload_press: string, retain: boolean,
    },
  },
  image: {
    // image.py: exactly one of url_topic and image_topic; content_type only with image_topic.
    required: [],
    fields: { url_topic: subscribeTopic, url_template: template, image_topic: subscribeTopic, image_encoding: oneOf('b64'), content_type: string },
    rule: (c) => ((c.url_topic === undefined) === (c.image_topic === undefined) ? 'needs exactly one of url_topic and image_topic'
      : c.content_type !== undefined && c.url_topic !== undefined ? 'content_type cannot go with url_topic' : undefined),
  },
  text: {
    required: ['command_topic'],
    fields: {
      command_topic: publishTopic, command_template: template, max: integer, min: integer, mode: oneOf('text', 'password'), pattern: string,
      retain: boolean, state_topic: subscribeTopic, value_template: template,
    },
  },
};

/**
 * What Home Assistant would refuse or silently drop in one discovery config, as readable lines
 * (empty when it takes it as it is). `component` is the discovery topic's platform.
 */
export function discoveryProblems(component: string, config: Record<string, unknown>): string[] {
  const schema = HA_SCHEMA[component];
  if (!schema) return [`${component} is not a platform this schema knows`];
  const problems: string[] = [];
  for (const key of schema.required) if (config[key] === undefined) problems.push(`lacks the required ${key}`);
  for (const [key, value] of Object.entries(config)) {
    const check = schema.fields[key] ?? COMMON[key];
    if (!check) {
      problems.push(`has the unknown key ${key}`);
      continue;
    }
    const problem = check(value);
    if (problem) problems.push(`${key} ${problem}`);
  }
  if (config.availability !== undefined && config.availability_topic !== undefined) problems.push('availability and availability_topic exclude each other');
  const entityId = config.default_entity_id;
  if (isString(entityId) && !new RegExp(`^${component}\\.[a-z0-9_]+$`).test(entityId)) problems.push(`default_entity_id ${entityId} is not ${component}.<object id>`);
  const rule = schema.rule?.(config);
  if (rule) problems.push(rule);
  return problems;
}
