/**
 * The guide's copy on disk, in the App's cache folder: read once at start, so a restart serves the
 * last guide at once, and written after each refresh, to a temporary file that is then renamed, so
 * a crash mid-write never leaves half a guide behind. A file that cannot be read is set aside: the
 * guide is fetched anew.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { GuideChannel, GuideProgramme, ReceiverGuideData } from '../receiver/guide';

const VERSION = 1;

export interface CachedGuides {
  /** Each receiver's guide by receiver name. */
  receivers: Map<string, ReceiverGuideData>;
  /** Why the file could not be used; undefined when it could, or when there is none yet. */
  problem?: string;
}

/**
 * Reads the cache file synchronously: it happens once, at start, before the routes serve, and a
 * week of a big bouquet's guide is a few MB.
 */
export function readGuideCache(path: string): CachedGuides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { receivers: new Map() } : { receivers: new Map(), problem: `it cannot be read (${code ?? 'unknown error'})` };
  }
  try {
    const raw = JSON.parse(text) as unknown;
    if (!isRecord(raw) || raw.version !== VERSION || !isRecord(raw.receivers)) return { receivers: new Map(), problem: 'it is not a guide cache of this version' };
    const receivers = new Map<string, ReceiverGuideData>();
    for (const [name, value] of Object.entries(raw.receivers)) {
      const data = guideData(value);
      if (data) receivers.set(name, data);
    }
    return { receivers };
  } catch {
    return { receivers: new Map(), problem: 'it is not valid JSON (cut off?)' };
  }
}

/** Writes the guides one write at a time; a write asked for while one runs writes the latest guides after it. */
export class GuideCacheWriter {
  private running: Promise<void> | undefined;
  private next: Map<string, ReceiverGuideData> | undefined;

  constructor(private readonly path: string, private readonly onError: (message: string) => void) {}

  write(receivers: Map<string, ReceiverGuideData>): void {
    this.next = new Map(receivers);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once every write asked for is on disk (or failed). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.next) {
      const receivers = this.next;
      this.next = undefined;
      const temporary = `${this.path}.${process.pid}.tmp`;
      try {
        await mkdir(dirname(this.path), { recursive: true });
        await writeFile(temporary, JSON.stringify({ version: VERSION, receivers: Object.fromEntries(receivers) }));
        await rename(temporary, this.path);
      } catch (error) {
        await rm(temporary, { force: true }).catch(() => undefined);
        this.onError((error as Error).message);
      }
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isText = (value: unknown): value is string => typeof value === 'string';
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** One receiver's guide from the file, leaving out whatever is not shaped as written. */
function guideData(value: unknown): ReceiverGuideData | undefined {
  if (!isRecord(value) || !isTime(value.fetchedAt) || !Array.isArray(value.channels)) return undefined;
  const channels: GuideChannel[] = [];
  for (const c of value.channels as unknown[]) {
    if (!isRecord(c) || !isText(c.id) || !isText(c.name) || !isText(c.ref) || !Array.isArray(c.programmes)) continue;
    const programmes = (c.programmes as unknown[]).filter(isProgramme);
    channels.push({ id: c.id, name: c.name, ref: c.ref, programmes });
  }
  return { fetchedAt: value.fetchedAt, channels };
}

function isProgramme(p: unknown): p is GuideProgramme {
  return isRecord(p) && isTime(p.begin) && isTime(p.end) && p.end > p.begin && isText(p.title) && isText(p.description) && isText(p.genre);
}
