/**
 * The playable service reference(s) in a request path part (percent-encoded), as the stream, HLS
 * and picon routes take it: answers 400 itself, with a sentence, when there is none.
 */
import type { ServerResponse } from 'node:http';
import { isPlayable, parseServiceRef, ServiceRef, ServiceRefError, tryParseServiceRef } from '../receiver/service-ref';
import { text } from './http-reply';

/**
 * The reference decoded, then (for IPTV) also as written: an IPTV ref may arrive as the box writes
 * it, its `%3a` not encoded again. `refused` ends the 400's sentence for markers and bouquets.
 */
export function pathRefs(response: ServerResponse, encoded: string, refused: string): ServiceRef[] | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    text(response, 400, 'the path is not valid percent-encoding');
    return undefined;
  }
  let ref: ServiceRef;
  try {
    ref = parseServiceRef(decoded);
  } catch (error) {
    text(response, 400, `not a channel: ${error instanceof ServiceRefError ? error.message : 'invalid'}`);
    return undefined;
  }
  if (!isPlayable(ref)) {
    text(response, 400, `not a channel: markers, hidden entries and bouquets ${refused}`);
    return undefined;
  }
  const raw = tryParseServiceRef(encoded);
  return raw && raw.path !== '' && raw.ref !== ref.ref ? [ref, raw] : [ref];
}
