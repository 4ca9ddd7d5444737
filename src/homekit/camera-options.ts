/**
 * What the receiver's camera tells HomeKit it can send (HAP's CameraStreamingOptions): SRTP with
 * AES_CM_128_HMAC_SHA1_80, H.264 baseline/main/high at levels 3.1-4.0 in the 16:9 sizes of
 * settings.ts, and the audio codecs the camera feed can encode (AAC-ELD at 16 kHz, Opus at 16 and
 * 24 kHz), one-way: a TV has no loudspeaker for the Home app's talk button.
 */
import type { AudioStreamingCodec, CameraStreamingOptions, HAP, Resolution } from 'homebridge';
import { CAMERA_AAC_ELD_SAMPLE_RATE_KHZ, CAMERA_OPUS_SAMPLE_RATES_KHZ, CAMERA_RESOLUTIONS } from '../settings';
import type { CameraFeed } from '../stream/camera-feed';

export function streamingOptions(hap: HAP, audioCodecs: CameraFeed['audioCodecs']): CameraStreamingOptions {
  const codecs: AudioStreamingCodec[] = [];
  for (const codec of audioCodecs) {
    if (codec === 'AAC-eld') codecs.push({ type: hap.AudioStreamingCodecType.AAC_ELD, samplerate: CAMERA_AAC_ELD_SAMPLE_RATE_KHZ });
    else if (codec === 'OPUS') codecs.push({ type: hap.AudioStreamingCodecType.OPUS, samplerate: [...CAMERA_OPUS_SAMPLE_RATES_KHZ] });
  }
  return {
    supportedCryptoSuites: [hap.SRTPCryptoSuites.AES_CM_128_HMAC_SHA1_80],
    video: {
      codec: {
        profiles: [hap.H264Profile.BASELINE, hap.H264Profile.MAIN, hap.H264Profile.HIGH],
        levels: [hap.H264Level.LEVEL3_1, hap.H264Level.LEVEL3_2, hap.H264Level.LEVEL4_0],
      },
      resolutions: CAMERA_RESOLUTIONS.map((r) => [...r] as Resolution),
    },
    // With no codec here HAP-NodeJS offers Opus for the Home app's sake and marks the camera
    // video-only; the feed then sends the picture alone.
    audio: { codecs, twoWayAudio: false },
  };
}
