/**
 * Whether an ffmpeg fed a live stream keeps up: a backlog on its stdin that stays (or grows past a
 * hard bound) means it cannot, and output that stops while input flows means it hangs or was
 * stopped. Used by whatever writes to an ffmpeg (the full remux, each of the splice's encoders),
 * which replaces the process when told why.
 */
import {
  FFMPEG_BACKLOG_GRACE_MS, FFMPEG_BACKLOG_HARD_BYTES, FFMPEG_BACKLOG_SOFT_BYTES, FFMPEG_OUTPUT_STALL_MS,
} from '../settings';

export class FfmpegWatchdog {
  private backlogSince: number | undefined;
  private outputAt: number | undefined;

  /** ffmpeg wrote output at `now` (clock ms). */
  output(now: number): void {
    this.outputAt = now;
  }

  /**
   * Starts the silence clock before any output came, for an ffmpeg that no other deadline covers
   * (the remux's first output has the session's). Later calls change nothing.
   */
  expectOutput(now: number): void {
    this.outputAt ??= now;
  }

  /** Before each write: why ffmpeg has to be replaced (a phrase to put before its subject), or undefined. */
  check(backlogBytes: number, now: number): string | undefined {
    // A burst is fine (receivers send several MB when a channel starts); a backlog that stays is not.
    if (backlogBytes <= FFMPEG_BACKLOG_SOFT_BYTES) this.backlogSince = undefined;
    else this.backlogSince ??= now;
    if (backlogBytes > FFMPEG_BACKLOG_HARD_BYTES || (this.backlogSince !== undefined && now - this.backlogSince > FFMPEG_BACKLOG_GRACE_MS)) {
      return 'cannot keep up with';
    }
    if (this.outputAt !== undefined && now - this.outputAt > FFMPEG_OUTPUT_STALL_MS) {
      return `stopped producing output for ${FFMPEG_OUTPUT_STALL_MS / 1000} s on`;
    }
    return undefined;
  }
}
