/**
 * ffmpeg command lines for the proxy: the live remux that copies video and re-encodes every audio
 * track of one program to AAC-LC (streaming.md's measured baseline), and nothing else. Kept apart
 * from the process wrapper so the arguments can be read and tested on their own.
 */
import type { VideoEncoder } from '../config/types';
import {
  FFMPEG_ANALYZE_DURATION_US, FFMPEG_MAX_MUXING_QUEUE, FFMPEG_PROBE_SIZE_BYTES, HLS_VAAPI_DEVICE, HLS_VIDEO_CRF,
  HLS_VIDEO_FALLBACK_GOP_FRAMES, HLS_VIDEO_HW_KBPS, HLS_VIDEO_MAX_KBPS,
} from '../settings';

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

export interface HlsVideoOptions {
  encoder: VideoEncoder;
  /** Service id to keep (as in remuxArgs). */
  program?: number;
  /** HLS segment length in seconds: a keyframe is forced at every multiple, so each segment starts with one. */
  segmentS: number;
}

/**
 * HLS for a channel with MPEG-2 video (Apple devices play only H.264 over HLS): the session's TS
 * in (video as broadcast, audio already AAC), video deinterlaced and encoded to H.264, audio copied,
 * MPEG-TS on stdout for the in-memory segmenter. yadif only touches frames flagged interlaced (DVB SD
 * is 50i; a progressive channel pays nothing for it) and sends one frame per frame, so the frame
 * rate stays what the channel sends. The hardware encoders get their usual arguments; they cannot
 * be run on a machine without the hardware, so only the argument lists are tested.
 */
export function hlsVideoArgs(options: HlsVideoOptions): string[] {
  const select = options.program === undefined ? '0' : `0:p:${options.program}`;
  const deinterlace = 'yadif=mode=send_frame:parity=auto:deint=interlaced';
  const maxRate = [`-maxrate`, `${HLS_VIDEO_MAX_KBPS}k`, '-bufsize', `${2 * HLS_VIDEO_MAX_KBPS}k`];
  // Hardware encoders take an average bitrate, and a GOP in frames in case they ignore forced keyframes.
  const hwRate = ['-b:v', `${HLS_VIDEO_HW_KBPS}k`, ...maxRate, '-g', String(HLS_VIDEO_FALLBACK_GOP_FRAMES)];
  let device: string[] = [];
  let filter = `${deinterlace},format=yuv420p`;
  let encode: string[];
  switch (options.encoder) {
    case 'libx264':
      encode = ['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-level', '4.0', '-crf', String(HLS_VIDEO_CRF), ...maxRate];
      break;
    case 'h264_vaapi':
      // Frames go to the GPU after the CPU deinterlaced them; the render node is a global option.
      device = ['-vaapi_device', HLS_VAAPI_DEVICE];
      filter = `${deinterlace},format=nv12,hwupload`;
      encode = ['-c:v', 'h264_vaapi', '-profile:v', 'high', '-level', '40', ...hwRate];
      break;
    case 'h264_qsv':
      // Quick Sync takes NV12 from system memory and opens its own session; forced keyframes must be IDR.
      filter = `${deinterlace},format=nv12`;
      encode = ['-c:v', 'h264_qsv', '-preset', 'veryfast', '-profile:v', 'high', '-level', '40', '-forced_idr', '1', ...hwRate];
      break;
    case 'h264_nvenc':
      encode = ['-c:v', 'h264_nvenc', '-profile:v', 'high', '-level', '4.0', '-forced-idr', '1', ...hwRate];
      break;
    case 'h264_v4l2m2m':
      // The Raspberry Pi's encoder: no profile or level options; it takes a bitrate and a GOP.
      encode = ['-c:v', 'h264_v4l2m2m', ...hwRate];
      break;
  }
  return [
    ...device,
    ...inputArgs(),
    '-map', `${select}:v:0`, '-map', `${select}:a?`,
    '-vf', filter,
    ...encode,
    '-force_key_frames', `expr:gte(t,n_forced*${options.segmentS})`,
    '-c:a', 'copy',
    '-sn', '-dn',
    '-max_muxing_queue_size', String(FFMPEG_MAX_MUXING_QUEUE),
    '-f', 'mpegts', 'pipe:1',
  ];
}
