/** The configuration layer's public surface: one typed Config, loaded env > file > defaults. */
export type { AudioChannels, AudioConfig, AudioMode, Config, MqttConfig, ProxyConfig, ReceiverConfig } from './types';
export { ConfigError } from './errors';
export { isConfigured, loadConfig, loadConfigWithWarnings, readConfigFile } from './load';
export type { LoadConfigOptions, LoadResult } from './load';
export { formatListen, parseListen } from './listen';
export type { ListenAddress } from './listen';
export { REDACTED, redactConfig } from './redact';
export { receiverConnection } from './connection';
export { ENV_VARS, parseOwiBase } from './env';
export { redactUrl, toBoolean } from './values';
export { buildConfig } from './validate';
