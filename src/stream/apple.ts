/**
 * Which players asking for a channel's TS stream (`/<ref>`) get sent to its HLS instead: Apple's
 * media stack (AppleCoreMedia: the iOS/tvOS player, QuickTime), browsers on iPhone, iPad and iPod
 * (all WebKit there), and Safari on macOS. None of them plays a progressive MPEG-TS stream
 * (streaming.md), so a 302 to `/hls/<ref>/index.m3u8` is the only way a pasted link plays.
 * Pure functions, so the decision is tested on its own.
 */

/** The query parameter that asks for the TS stream whatever the user agent (`?direct=1`). */
export const DIRECT_PARAMETER = 'direct';

/**
 * Players that name themselves and play TS, even when their user agent also mentions an Apple
 * device (VLC for iOS, Kodi on an Apple TV, ffmpeg's Lavf, mpv): they never get redirected.
 */
const TS_PLAYERS = /\b(VLC|LibVLC|Kodi|XBMC|Lavf|ffmpeg|ffprobe|mpv)\b/i;
/** Browsers on macOS that put "Safari/" in their user agent but are not Safari (and play HLS only through MSE). */
const NOT_SAFARI = /\b(Chrome|Chromium|CriOS|Edg|EdgiOS|Firefox|FxiOS|OPR)\//;

/** True for a user agent that cannot play a TS stream but plays HLS: an Apple player or browser. */
export function isAppleHlsPlayer(userAgent: string | undefined): boolean {
  if (!userAgent || TS_PLAYERS.test(userAgent)) return false;
  if (/\bAppleCoreMedia\//.test(userAgent)) return true;
  // On iOS and iPadOS every browser is WebKit underneath (Chrome's CriOS too): none plays TS.
  if (/\b(iPhone|iPad|iPod)\b/.test(userAgent)) return true;
  // Safari on macOS (and iPadOS asking for the desktop site, which says "Macintosh").
  return /\bMacintosh\b/.test(userAgent) && /\bSafari\//.test(userAgent) && !NOT_SAFARI.test(userAgent);
}

/**
 * Whether a GET of `/<ref>` should be answered with a redirect to the channel's HLS. `?direct=1`
 * opts out, so an Apple user can still save or relay the raw TS (an app that plays TS but
 * announces itself like Safari, a download, a recording): a redirect they cannot avoid would lock
 * them out of the plain stream. `direct=0` (or false/no) does not opt out.
 */
export function redirectsToHls(userAgent: string | undefined, query: URLSearchParams): boolean {
  const direct = query.get(DIRECT_PARAMETER);
  if (direct !== null && !/^(0|false|no)$/i.test(direct)) return false;
  return isAppleHlsPlayer(userAgent);
}

/** Where the redirect points: the channel's master playlist, with the token query the request had. */
export function hlsLocation(ref: string, tokenQuery: string): string {
  return `/hls/${encodeURIComponent(ref)}/index.m3u8${tokenQuery}`;
}
