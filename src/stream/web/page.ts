/**
 * The HTML of the proxy's page at `/`: only the shell. Channels, the player and the active streams
 * are filled in by the page's script (app-script.ts) from /api/channels and /api/status with
 * textContent, so no name from the box ever passes through this HTML.
 *
 * Every URL here is relative to the page, so the page also works behind a reverse proxy that serves
 * it under a path, and carries the access token query when one is set.
 */

export interface PageOptions {
  version: string;
  /** `?token=…` when a token is set, else ''. */
  tokenQuery: string;
  /** Put into the hls.js URL: the library is cached for long, and a new version must be a new URL. */
  hlsVersion: string;
  statusPollMs: number;
  channelsRefreshMs: number;
}

/**
 * The page's policy: everything from the proxy itself and nothing inline. hls.js feeds the
 * <video> element a MediaSource through a blob: URL; its transmuxing worker is loaded from
 * /assets/, not from a blob.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A page-relative URL with parameters and the token query (the token last, as in every other URL). */
export function pageUrl(path: string, tokenQuery: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params);
  for (const [name, value] of new URLSearchParams(tokenQuery)) query.append(name, value);
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** Text for an HTML attribute value or element content. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function pageHtml(options: PageOptions): string {
  const q = options.tokenQuery;
  const attr = (value: string): string => `"${escapeHtml(value)}"`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>xg2g</title>
<link rel="icon" href=${attr(pageUrl('assets/icon.svg', q, { v: options.version }))} type="image/svg+xml">
<link rel="stylesheet" href=${attr(pageUrl('assets/app.css', q, { v: options.version }))}>
<script src=${attr(pageUrl('assets/hls.min.js', q, { v: options.hlsVersion }))} defer></script>
<script src=${attr(pageUrl('assets/app.js', q, { v: options.version }))} defer></script>
</head>
<body data-token-query=${attr(q)} data-hls-version=${attr(options.hlsVersion)} data-status-poll-ms=${attr(String(options.statusPollMs))} data-channels-refresh-ms=${attr(String(options.channelsRefreshMs))}>
<a class="skip" href="#channels">Skip to the channels</a>
<header class="top">
  <h1>xg2g <span class="version">${escapeHtml(options.version)}</span></h1>
  <nav aria-label="Data for other apps">
    <a href=${attr(pageUrl('playlist.m3u', q))}>Playlist (M3U)</a>
    <a href=${attr(pageUrl('api/channels', q))}>Channels (JSON)</a>
    <a href=${attr(pageUrl('api/status', q))}>Status (JSON)</a>
  </nav>
</header>
<main>
  <section id="player" class="player" aria-labelledby="player-title" hidden>
    <div class="player-head">
      <h2 id="player-title" tabindex="-1">Player</h2>
      <button type="button" id="stop" class="stop">Stop</button>
    </div>
    <video id="video" controls playsinline preload="none"></video>
    <audio id="audio" controls preload="none" hidden></audio>
    <p id="player-message" class="message" aria-live="polite"></p>
  </section>
  <section class="streams" aria-labelledby="streams-title">
    <h2 id="streams-title">Active streams</h2>
    <p id="streams-message" class="muted">Loading…</p>
    <ul id="streams" class="stream-list"></ul>
    <p id="streams-announce" class="visually-hidden" aria-live="polite"></p>
  </section>
  <section id="channels" class="channels" aria-labelledby="channels-title" tabindex="-1">
    <h2 id="channels-title">Channels</h2>
    <p id="channels-message" class="muted" aria-live="polite">Loading the channels…</p>
    <div id="channel-list"></div>
  </section>
</main>
<p id="notice" class="notice" aria-live="polite"></p>
<noscript><p class="message error">This page needs JavaScript. The playlist link above works without it.</p></noscript>
</body>
</html>
`;
}
