/**
 * ffmpeg command lines for the proxy: the live remux that copies video and re-encodes every audio
 * track of one program to AAC-LC (streaming.md's measured baseline), the splice's and HLS's
 * encoders, and the HomeKit camera's still pictures and live views. Kept apart
 * from the process wrapper so the arguments can be read and tested on their own.
 */
import type { VideoEncoder } from '../config/types';
import {
  CAMERA_JPEG_QUALITY, CAMERA_KEYFRAME_INTERVAL_S, FFMPEG_ANALYZE_DURATION_US, FFMPEG_MAX_MUXING_QUEUE, FFMPEG_PROBE_SIZE_BYTES, HLS_VAAPI_DEVICE, HLS_VIDEO_CRF,
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

// ---------------------------------------------------------------------------------------------
// HomeKit camera (stream/camera-*.ts)
// ---------------------------------------------------------------------------------------------

/**
 * One still picture from the start of a session's cached GOP (PAT, PMT, keyframe): the first video
 * frame, deinterlaced when flagged interlaced, fit into `width`×`height` with its aspect kept, as a
 * JPEG on stdout. The input is a few MB that end, so probing stops at their end.
 */
export function frameArgs(width: number, height: number, program?: number): string[] {
  const select = program === undefined ? '0' : `0:p:${program}`;
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-fflags', '+genpts+discardcorrupt',
    '-f', 'mpegts', '-i', 'pipe:0',
    '-map', `${select}:v:0`, '-frames:v', '1',
    '-vf', `yadif=mode=send_frame:parity=auto:deint=interlaced,scale=${width}:${height}:force_original_aspect_ratio=decrease`,
    '-pix_fmt', 'yuvj420p', '-q:v', String(CAMERA_JPEG_QUALITY),
    '-f', 'mjpeg', 'pipe:1',
  ];
}

/** A raw RGB24 picture of `width`×`height` on stdin (the placeholder's text), one JPEG on stdout. */
export function placeholderArgs(width: number, height: number): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0',
    '-frames:v', '1', '-pix_fmt', 'yuvj420p', '-q:v', String(CAMERA_JPEG_QUALITY),
    '-f', 'mjpeg', 'pipe:1',
  ];
}

/** One RTP output of a live view: where ffmpeg sends plain RTP (the relay that adds SRTP), and how. */
export interface RtpOutput {
  payloadType: number;
  /** HomeKit's SSRC (unsigned 32 bits). */
  ssrc: number;
  /** The relay's loopback port: RTP and RTCP both go there (RTCP multiplexed, as HomeKit expects). */
  port: number;
  /** Largest RTP packet ffmpeg may write, in bytes (the viewer's MTU less SRTP's tag). */
  packetBytes: number;
}

export interface CameraVideo extends RtpOutput {
  /** Copy the channel's H.264 as it is, or encode it to the size and rate asked. */
  copy: boolean;
  encoder: VideoEncoder;
  width: number;
  height: number;
  fps: number;
  kbps: number;
}

export interface CameraAudio extends RtpOutput {
  codec: 'AAC-eld' | 'OPUS';
  sampleRateHz: number;
  channels: number;
  kbps: number;
  packetTimeMs: number;
}

export interface CameraLiveOptions {
  /** Service id of the channel in the TS (as in remuxArgs). */
  program?: number;
  video: CameraVideo;
  /** None when the channel has no audio track. */
  audio?: CameraAudio;
}

/**
 * A live view: the session's TS on stdin, two RTP outputs (video, audio) to the camera relay on
 * loopback, which adds SRTP and sends them on to the viewer. RTP is plain here because the relay,
 * not ffmpeg, keeps SRTP's packet index: it survives a zap's ffmpeg restart (see camera-rtp.ts).
 */
export function cameraLiveArgs(options: CameraLiveOptions): string[] {
  const select = options.program === undefined ? '0' : `0:p:${options.program}`;
  const { video, audio } = options;
  const args = [...cameraVideoDeviceArgs(video), ...inputArgs()];
  args.push('-map', `${select}:v:0`, ...(video.copy ? ['-c:v', 'copy'] : cameraVideoEncodeArgs(video)));
  args.push('-an', '-sn', '-dn', ...rtpOutput(video));
  if (audio) {
    args.push('-map', `${select}:a:0`, ...cameraAudioEncodeArgs(audio));
    args.push('-vn', '-sn', '-dn', ...rtpOutput(audio));
  }
  return args;
}

/** Global options an encoder needs before the input (the VAAPI render node). */
function cameraVideoDeviceArgs(video: CameraVideo): string[] {
  return !video.copy && video.encoder === 'h264_vaapi' ? ['-vaapi_device', HLS_VAAPI_DEVICE] : [];
}

/**
 * Video for a viewer: deinterlaced when flagged interlaced (DVB HD is often 1080i), fit into the
 * size asked (aspect kept, even sides), at most the frame rate asked, a keyframe every
 * CAMERA_KEYFRAME_INTERVAL_S (a viewer that lost packets recovers at the next one), and the bitrate
 * asked as average and ceiling over a 1 s buffer. Main profile: every HomeKit controller decodes it;
 * level 3.1 covers 720p30, 4.0 1080p30.
 */
export function cameraVideoEncodeArgs(video: Omit<CameraVideo, keyof RtpOutput | 'copy'>): string[] {
  const deinterlace = 'yadif=mode=send_frame:parity=auto:deint=interlaced';
  const scale = `scale=${video.width}:${video.height}:force_original_aspect_ratio=decrease:force_divisible_by=2`;
  const gop = String(Math.max(1, Math.round(video.fps * CAMERA_KEYFRAME_INTERVAL_S)));
  const level = video.width * video.height <= 1280 * 720 ? '3.1' : '4.0';
  const rate = ['-b:v', `${video.kbps}k`, '-maxrate', `${video.kbps}k`, '-bufsize', `${video.kbps}k`];
  const common = ['-fpsmax', String(video.fps), '-g', gop, ...rate];
  switch (video.encoder) {
    case 'libx264':
      return ['-vf', `${deinterlace},${scale},format=yuv420p`, '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
        '-profile:v', 'main', '-level:v', level, '-sc_threshold', '0', ...common];
    case 'h264_vaapi':
      // Frames go to the GPU after the CPU deinterlaced and scaled them (as hlsVideoArgs does).
      return ['-vf', `${deinterlace},${scale},format=nv12,hwupload`, '-c:v', 'h264_vaapi', '-profile:v', 'main', '-level', level.replace('.', ''), '-bf', '0', ...common];
    case 'h264_qsv':
      return ['-vf', `${deinterlace},${scale},format=nv12`, '-c:v', 'h264_qsv', '-preset', 'veryfast', '-profile:v', 'main', '-level', level.replace('.', ''),
        '-low_power', '0', '-bf', '0', ...common];
    case 'h264_nvenc':
      return ['-vf', `${deinterlace},${scale},format=yuv420p`, '-c:v', 'h264_nvenc', '-preset', 'p1', '-tune', 'll', '-zerolatency', '1',
        '-profile:v', 'main', '-level', level, '-bf', '0', ...common];
    case 'h264_v4l2m2m':
      // The Raspberry Pi's encoder: no profile or level options; it takes a bitrate and a GOP.
      return ['-vf', `${deinterlace},${scale},format=yuv420p`, '-c:v', 'h264_v4l2m2m', ...common];
  }
}

/**
 * Audio for a viewer: the channel's first track downmixed to what was asked. AAC-ELD needs
 * libfdk_aac and a global header (HomeKit reads the config from the SDP it built); Opus runs in its
 * low-delay mode with one frame per packet (libopus takes 2.5-60 ms frames: the nearest one at or
 * below the packet time asked).
 */
export function cameraAudioEncodeArgs(audio: Omit<CameraAudio, keyof RtpOutput>): string[] {
  const codec = audio.codec === 'AAC-eld'
    ? ['-c:a', 'libfdk_aac', '-profile:a', 'aac_eld', '-flags', '+global_header']
    : ['-c:a', 'libopus', '-application', 'lowdelay', '-frame_duration', String(opusFrameMs(audio.packetTimeMs))];
  return [
    ...codec,
    '-ar', String(audio.sampleRateHz), '-ac', String(audio.channels), '-b:a', `${audio.kbps}k`,
    '-af', 'aresample=rematrix_maxval=1.0',
  ];
}

const OPUS_FRAMES_MS = [2.5, 5, 10, 20, 40, 60];

function opusFrameMs(packetTimeMs: number): number {
  return [...OPUS_FRAMES_MS].reverse().find((ms) => ms <= packetTimeMs) ?? 20;
}

/** Plain RTP to the relay's port, RTCP to the same port, packets small enough for SRTP's tag. */
function rtpOutput(output: RtpOutput): string[] {
  return [
    '-payload_type', String(output.payloadType),
    // ffmpeg's option is a signed 32-bit int: the same 32 bits as HomeKit's unsigned SSRC.
    '-ssrc', String(output.ssrc | 0),
    '-f', 'rtp', `rtp://127.0.0.1:${output.port}?rtcpport=${output.port}&pkt_size=${output.packetBytes}`,
  ];
}
