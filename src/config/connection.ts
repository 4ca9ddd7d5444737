/**
 * The OpenWebIF client's connection settings from a receiver's config, so callers never copy
 * fields by hand (and never forget allowSelfSigned).
 */
import type { ReceiverConnection } from '../receiver/client';
import type { ReceiverConfig } from './types';

export function receiverConnection(receiver: ReceiverConfig, timeoutMs?: number): ReceiverConnection {
  const conn: ReceiverConnection = {
    name: receiver.name,
    host: receiver.host,
    port: receiver.port,
    https: receiver.https,
    allowSelfSigned: receiver.allowSelfSigned,
    username: receiver.username,
    password: receiver.password,
  };
  if (timeoutMs !== undefined) conn.timeoutMs = timeoutMs;
  return conn;
}
