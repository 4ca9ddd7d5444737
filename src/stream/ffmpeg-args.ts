/**
 * ffmpeg command lines for the proxy: the live remux that copies video and re-encodes every audio
 * track of one program to AAC-LC (streaming.md's measured baseline), and nothing else. Kept apart
 * from the process wrapper so the arguments can be read and tested on their own.
 */
import { FFMPEG_ANALYZE_DURATION_US, FFMPEG_MAX_MUXING_QUEUE, FFMPEG_PROBE_SIZE_BYTES } from '../settings';

export interface AudioOptions {
  /** Only 'aac' (ffmpeg's native AAC-LC encoder) today. */
  codec: 'aac';
  /** ffmpeg bitrate form, e.g. '192k'. */
  bitrate: string;
  channels: number;
}

export interface RemuxOptions {
  /** Service id to keep; selecting by program keeps other programs' (and stray) PIDs out. */
  program?: number;
  audio: AudioOptions;
}

/** Input side: read MPEG-TS from stdin, probe little, repair timestamps, drop corrupt packets. */
function inputArgs(): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-fflags', '+genpts+discardcorrupt',
    '-probesize', String(FFMPEG_PROBE_SIZE_BYTES),
    '-analyzeduration', String(FFMPEG_ANALYZE_DURATION_US),
    '-f', 'mpegts', '-i', 'pipe:0',
  ];
}

/**
 * Video copied, every audio track to AAC-LC, subtitles and data dropped, MPEG-TS on stdout.
 * Languages are kept because ffmpeg copies stream metadata of mapped streams. The rematrix limit
 * keeps a loud 5.1 downmix from clipping.
 */
export function remuxArgs(options: RemuxOptions): string[] {
  const select = options.program === undefined ? '0' : `0:p:${options.program}`;
  const { audio } = options;
  return [
    ...inputArgs(),
    '-map', `${select}:v:0?`, '-map', `${select}:a?`,
    '-c:v', 'copy',
    '-c:a', audio.codec, '-b:a', audio.bitrate, '-ac', String(audio.channels),
    '-af', 'aresample=rematrix_maxval=1.0',
    '-sn', '-dn',
    '-max_muxing_queue_size', String(FFMPEG_MAX_MUXING_QUEUE),
    '-f', 'mpegts', 'pipe:1',
  ];
}

/**
 * The splice's encoder: one track's elementary stream in (whole frames, raw `format`), ADTS AAC-LC
 * out, each frame flushed as it is made. A raw stream needs no probing beyond its first frame, so
 * the smallest probe starts output in about 0.1 s (mostly process start-up). AC-3 and E-AC-3 are
 * downmixed by their own decoder, with the mix levels the broadcaster put in the stream and before
 * the inverse transforms of the channels it drops (a 5.1 track costs ~18 % less than rematrixing).
 */
export function audioEncodeArgs(format: string, audio: AudioOptions): string[] {
  const downmix = (format === 'ac3' || format === 'eac3') && audio.channels <= 2
    ? ['-downmix', audio.channels === 1 ? 'mono' : 'stereo'] : [];
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-probesize', '32', '-analyzeduration', '0',
    ...downmix,
    '-f', format, '-i', 'pipe:0',
    '-map', '0:a:0',
    '-c:a', audio.codec, '-b:a', audio.bitrate, '-ac', String(audio.channels),
    '-af', 'aresample=rematrix_maxval=1.0',
    '-flush_packets', '1',
    '-f', 'adts', 'pipe:1',
  ];
}
