// The watchdog of an ffmpeg fed a live stream, on plain numbers for time: a burst is tolerated, a
// backlog that stays or grows past the hard bound is not, and silence counts only once output was
// expected.
import {
  FFMPEG_BACKLOG_GRACE_MS, FFMPEG_BACKLOG_HARD_BYTES, FFMPEG_BACKLOG_SOFT_BYTES, FFMPEG_OUTPUT_STALL_MS,
} from '../../src/settings';
import { FfmpegWatchdog } from '../../src/stream/ffmpeg-watchdog';

const T0 = 1_000_000;

it('tolerates a backlog over the soft bound for the grace time, not longer', () => {
  const w = new FfmpegWatchdog();
  const burst = FFMPEG_BACKLOG_SOFT_BYTES + 1;
  expect(w.check(burst, T0)).toBeUndefined();
  expect(w.check(burst, T0 + FFMPEG_BACKLOG_GRACE_MS)).toBeUndefined();
  expect(w.check(burst, T0 + FFMPEG_BACKLOG_GRACE_MS + 1)).toBe('cannot keep up with');
});

it('forgets a backlog that was worked off', () => {
  const w = new FfmpegWatchdog();
  expect(w.check(FFMPEG_BACKLOG_SOFT_BYTES + 1, T0)).toBeUndefined();
  expect(w.check(0, T0 + 1_000)).toBeUndefined();
  expect(w.check(FFMPEG_BACKLOG_SOFT_BYTES + 1, T0 + FFMPEG_BACKLOG_GRACE_MS + 1)).toBeUndefined();
});

it('refuses a backlog over the hard bound at once', () => {
  expect(new FfmpegWatchdog().check(FFMPEG_BACKLOG_HARD_BYTES + 1, T0)).toBe('cannot keep up with');
});

it('counts silence from the last output, or from when output was first expected', () => {
  const quiet = new FfmpegWatchdog();
  expect(quiet.check(0, T0 + 10 * FFMPEG_OUTPUT_STALL_MS)).toBeUndefined(); // nothing expected yet
  const w = new FfmpegWatchdog();
  w.expectOutput(T0);
  w.expectOutput(T0 + 4_000); // a later call changes nothing
  expect(w.check(0, T0 + FFMPEG_OUTPUT_STALL_MS)).toBeUndefined();
  expect(w.check(0, T0 + FFMPEG_OUTPUT_STALL_MS + 1)).toBe(`stopped producing output for ${FFMPEG_OUTPUT_STALL_MS / 1000} s on`);
  w.output(T0 + FFMPEG_OUTPUT_STALL_MS + 2);
  expect(w.check(0, T0 + 2 * FFMPEG_OUTPUT_STALL_MS + 2)).toBeUndefined();
});
