/**
 * Why a stream could not be served, as a sentence for the user and an HTTP status for the client
 * that has not received anything yet: 503 when trying again later may work (tuner busy, a limit),
 * 502 when the receiver itself failed, 400 for a request that can never work.
 */
export type StreamErrorKind =
  | 'busy' | 'limit' | 'unreachable' | 'auth' | 'upstream' | 'dropped' | 'stalled' | 'ffmpeg' | 'invalid';

export class StreamError extends Error {
  constructor(readonly kind: StreamErrorKind, message: string) {
    super(message);
    this.name = 'StreamError';
  }

  get httpStatus(): number {
    switch (this.kind) {
      case 'busy':
      case 'limit':
        return 503;
      case 'invalid':
        return 400;
      default:
        return 502;
    }
  }
}
