/**
 * The errors the OpenWebIF client throws: one `ReceiverError` class whose `kind` says what went
 * wrong and whose message is a sentence a user can act on, naming the receiver and the endpoint.
 *
 * These errors are built from plain facts (an error code, an HTTP status, the box's own message),
 * never from a transport error object: axios errors carry the request config, credentials
 * included, so nothing of them is attached, chained as `cause` or quoted.
 */
import { OWI_BOX_MESSAGE_MAX_CHARS } from '../settings';

export type ReceiverErrorKind =
  /** No connection: refused, no route, unknown host, reset. */
  | 'unreachable'
  /** Connected (or trying) but no answer within the timeout. */
  | 'timeout'
  /** HTTP 401: credentials missing or wrong. */
  | 'auth'
  /** HTTP 403: OpenWebIF without auth refuses peers outside its subnet. */
  | 'forbidden'
  /** HTTP 200 with `result: false`: the box said no and said why (`boxMessage`). */
  | 'rejected'
  /** Not an OpenWebIF answer: not JSON, unexpected shape, HTTP 404, 5xx, redirect. */
  | 'protocol'
  /** HTTPS certificate not accepted (self-signed without `allowSelfSigned`, wrong name, expired). */
  | 'tls'
  /** The request was cancelled because the client was closed or the app is stopping. */
  | 'aborted'
  /** Not sent: too many requests to this box were already waiting (a flood of commands). */
  | 'overloaded'
  /** Not sent: the command names something the box does not have (a channel, a timer) or asks for
   *  something that cannot work (a timer that ends before it begins, recording in standby). */
  | 'invalid';

/** Who and what a failure is about: `receiver` is a label like `Living Room (192.168.1.100:80)`. */
export interface RequestContext {
  receiver: string;
  endpoint: string;
}

export interface ReceiverErrorDetails extends RequestContext {
  status?: number;
  code?: string;
  boxMessage?: string;
}

export class ReceiverError extends Error {
  readonly kind: ReceiverErrorKind;
  /** Label of the receiver, `Name (host:port)`. */
  readonly receiver: string;
  /** The path asked for, without query (e.g. `/api/zap`). */
  readonly endpoint: string;
  /** HTTP status, when there was an answer. */
  readonly status?: number;
  /** Node's error code (ECONNREFUSED…) for transport failures. */
  readonly code?: string;
  /** The box's own reason for `rejected`. */
  readonly boxMessage?: string;

  constructor(kind: ReceiverErrorKind, message: string, details: ReceiverErrorDetails) {
    super(message);
    this.name = 'ReceiverError';
    this.kind = kind;
    this.receiver = details.receiver;
    this.endpoint = details.endpoint;
    if (details.status !== undefined) this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
    if (details.boxMessage !== undefined) this.boxMessage = details.boxMessage;
  }
}

export function isReceiverError(err: unknown, kind?: ReceiverErrorKind): err is ReceiverError {
  return err instanceof ReceiverError && (kind === undefined || err.kind === kind);
}

const UNREACHABLE_HINTS: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  EHOSTUNREACH: 'has no route to it',
  ENETUNREACH: 'is on an unreachable network',
  ENOTFOUND: 'has a host name that does not resolve',
  EAI_AGAIN: 'has a host name that could not be resolved right now',
  ECONNRESET: 'dropped the connection',
  EPIPE: 'dropped the connection',
  ECONNABORTED: 'dropped the connection',
};

export function unreachableError(ctx: RequestContext, code: string): ReceiverError {
  const what = UNREACHABLE_HINTS[code] ?? 'could not be reached';
  const hint =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? 'check the host setting'
      : 'check that the receiver is switched on (deep standby turns its web interface off) and that host and port are right';
  return new ReceiverError('unreachable', `${ctx.receiver} ${what} (${code}) for ${ctx.endpoint}: ${hint}.`, { ...ctx, code });
}

export function timeoutError(ctx: RequestContext, timeoutMs: number): ReceiverError {
  return new ReceiverError(
    'timeout',
    `${ctx.receiver} did not answer ${ctx.endpoint} within ${timeoutMs} ms: the receiver may be busy, ` +
      'booting or in deep standby; check that its web interface opens in a browser.',
    { ...ctx, code: 'ETIMEDOUT' },
  );
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_');
}

export function tlsError(ctx: RequestContext, code: string): ReceiverError {
  const hint = /SELF_SIGNED|UNABLE_TO/.test(code)
    ? 'its certificate is self-signed: set allowSelfSigned if you trust this receiver'
    : code === 'EPROTO'
      ? 'the port answers in plain HTTP, not HTTPS: turn https off, or set the port of its HTTPS web interface'
      : /ERR_SSL_/.test(code)
        ? 'check that the port really serves HTTPS, or turn https off'
        : 'check the certificate, or set allowSelfSigned if you trust this receiver';
  return new ReceiverError('tls', `${ctx.receiver} failed the HTTPS check (${code}) for ${ctx.endpoint}: ${hint}.`, { ...ctx, code });
}

/** 401 / 403 / anything else that is not a 2xx. */
export function httpStatusError(ctx: RequestContext, status: number, sentCredentials: boolean): ReceiverError {
  if (status === 401) {
    const message = sentCredentials
      ? `${ctx.receiver} refused the user name or password (HTTP 401) for ${ctx.endpoint}: check username/password.`
      : `${ctx.receiver} asks for a user name and password (HTTP 401) for ${ctx.endpoint}: set username/password.`;
    return new ReceiverError('auth', message, { ...ctx, status });
  }
  if (status === 403) {
    return new ReceiverError(
      'forbidden',
      `${ctx.receiver} refused access (HTTP 403) to ${ctx.endpoint}: without authentication OpenWebIF only ` +
        'serves its own subnet; turn on authentication in OpenWebIF and set username/password, or run on the same subnet.',
      { ...ctx, status },
    );
  }
  if (status === 404) {
    return new ReceiverError(
      'protocol',
      `${ctx.receiver} has no ${ctx.endpoint} (HTTP 404): check that host and port point at the receiver's ` +
        'OpenWebIF web interface and that OpenWebIF is up to date.',
      { ...ctx, status },
    );
  }
  if (status >= 300 && status < 400) {
    return new ReceiverError(
      'protocol',
      `${ctx.receiver} redirected ${ctx.endpoint} elsewhere (HTTP ${status}): if its web interface uses HTTPS, set https and the port.`,
      { ...ctx, status },
    );
  }
  if (status >= 500) {
    return new ReceiverError(
      'protocol',
      `${ctx.receiver} failed on ${ctx.endpoint} (HTTP ${status}): the web interface had an internal error; try again, or restart the receiver's GUI.`,
      { ...ctx, status },
    );
  }
  return new ReceiverError('protocol', `${ctx.receiver} answered ${ctx.endpoint} with HTTP ${status}, which OpenWebIF does not send.`, { ...ctx, status });
}

export function rejectedError(ctx: RequestContext, boxMessage: string): ReceiverError {
  const clean = oneLine(boxMessage) || 'no reason given';
  return new ReceiverError('rejected', `${ctx.receiver} rejected ${ctx.endpoint}: ${clean}.`, { ...ctx, boxMessage: clean });
}

/** `what` describes the problem, e.g. `an HTML page instead of JSON` or `"volume" is not a number`. */
export function protocolError(ctx: RequestContext, what: string, status?: number): ReceiverError {
  return new ReceiverError(
    'protocol',
    `${ctx.receiver} sent an unexpected answer to ${ctx.endpoint} (${what}): check that host and port point at the receiver's OpenWebIF web interface.`,
    { ...ctx, ...(status !== undefined ? { status } : {}) },
  );
}

export function overloadedError(ctx: RequestContext, waiting: number): ReceiverError {
  return new ReceiverError('overloaded', `${ctx.receiver} already has ${waiting} requests waiting, so ${ctx.endpoint} was not sent; commands arrive faster than the box answers.`, ctx);
}

export function abortedError(ctx: RequestContext): ReceiverError {
  return new ReceiverError('aborted', `The request ${ctx.endpoint} to ${ctx.receiver} was cancelled because the client was stopped.`, ctx);
}

/** A box message on one line, without trailing period, cut to a quotable length. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return flat.length > OWI_BOX_MESSAGE_MAX_CHARS ? `${flat.slice(0, OWI_BOX_MESSAGE_MAX_CHARS)}…` : flat;
}

/** A command the plugin itself declined, with the reason as a sentence (`invalid` kind). */
export function invalidError(receiver: string, endpoint: string, sentence: string): ReceiverError {
  return new ReceiverError('invalid', sentence, { receiver, endpoint });
}

/**
 * A command refused on purpose, not a failure: "off" while proxy viewers watch and the standby
 * guard is on. The message says who is watching and how to override it (`force`).
 */
export class CommandRefused extends Error {
  /** The receiver's name, e.g. `Living Room`. */
  readonly receiver: string;
  /** Proxy clients attached when it was refused. */
  readonly viewers: number;
  /** Names of the channels they watch. */
  readonly channels: string[];

  constructor(receiver: string, viewers: number, channels: string[]) {
    const who = viewers === 1 ? '1 viewer is' : `${viewers} viewers are`;
    const what = channels.length > 0 ? ` ${listText(channels)}` : '';
    super(`${receiver} stays on: ${who} watching${what} through the proxy; send OFF_FORCE to turn it off anyway.`);
    this.name = 'CommandRefused';
    this.receiver = receiver;
    this.viewers = viewers;
    this.channels = [...channels];
  }
}

export function isCommandRefused(err: unknown): err is CommandRefused {
  return err instanceof CommandRefused;
}

/** `A`, `A and B`, `A, B and C`. */
function listText(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
