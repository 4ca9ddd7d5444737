/**
 * The files the page at `/` loads from /assets/: its own script and stylesheet (string constants,
 * compiled into dist/ with everything else) and hls.js with its worker, read once from the installed
 * `hls.js` package (a runtime dependency) and kept in memory. Nothing is fetched from elsewhere.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { WEB_LIBRARY_MAX_AGE_S } from '../../settings';
import { APP_JS } from './app-script';
import { APP_CSS } from './styles';

export interface Asset {
  contentType: string;
  cacheControl: string;
  body: Buffer;
  /** Quoted strong ETag of the body. */
  etag: string;
}

const JS = 'text/javascript; charset=utf-8';
/** The page's own files change with the plugin; a check per load is cheap at a few KB. */
const OWN = 'no-cache';
/** hls.js is asked for with its version in the URL, so a cached copy is never stale. */
const LIBRARY = `max-age=${WEB_LIBRARY_MAX_AGE_S}, immutable`;

type Source = { contentType: string; cacheControl: string; load: () => Promise<string> };

const SOURCES: Record<string, Source> = {
  'app.js': { contentType: JS, cacheControl: OWN, load: async () => APP_JS },
  'app.css': { contentType: 'text/css; charset=utf-8', cacheControl: OWN, load: async () => APP_CSS },
  'icon.svg': { contentType: 'image/svg+xml', cacheControl: OWN, load: async () => ICON_SVG },
  'hls.min.js': { contentType: JS, cacheControl: LIBRARY, load: () => hlsFile('hls.min.js') },
  'hls.worker.js': { contentType: JS, cacheControl: LIBRARY, load: () => hlsFile('hls.worker.js') },
};

/** The tab's icon: a screen. Linked from the page so the browser does not ask /favicon.ico without the token. */
const ICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="5" width="28" height="19" rx="3" fill="#0b57d0"/><path d="M13 10v9l8-4.5z" fill="#fff"/><rect x="9" y="26" width="14" height="2.5" rx="1.25" fill="#0b57d0"/></svg>';

const loaded = new Map<string, Promise<Asset>>();

/** The asset by file name (`app.js`), loaded on first use; undefined for an unknown name. */
export function asset(name: string): Promise<Asset> | undefined {
  if (!Object.hasOwn(SOURCES, name)) return undefined;
  let found = loaded.get(name);
  if (!found) {
    const source = SOURCES[name];
    found = source.load().then((text) => {
      const body = Buffer.from(text);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      return { contentType: source.contentType, cacheControl: source.cacheControl, body, etag };
    });
    // A failed read (the package missing) is tried again on the next request, not cached.
    found.catch(() => loaded.delete(name));
    loaded.set(name, found);
  }
  return found;
}

/** The installed hls.js version, for the page's cache-busting URLs ('' when it is not installed). */
export function hlsVersion(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = (JSON.parse(readFileSync(require.resolve('hls.js/package.json'), 'utf8')) as { version: string }).version;
    } catch {
      cachedVersion = '';
    }
  }
  return cachedVersion;
}
let cachedVersion: string | undefined;

/** A file of the hls.js build, without its source map comment (the map is not served). */
async function hlsFile(file: string): Promise<string> {
  const text = await readFile(require.resolve(`hls.js/dist/${file}`), 'utf8');
  return text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}
