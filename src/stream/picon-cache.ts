/**
 * The picon store: a folder of PNG files with a bound on its total size (least recently used go
 * first, "used" being the file's mtime, so the order survives restarts) and a small memory layer in
 * front for the logos asked for again and again. Keys are picon file names.
 *
 * Disk trouble never fails a lookup: it is logged once and the memory layer carries on. Writes go
 * to a temporary name and are renamed into place, so a crash never leaves half a PNG behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { SerialQueue } from '../receiver/serial-queue';
import { LogOnce } from '../retry';
import type { Picon } from './proxy-types';

export interface PiconCacheOptions {
  /** The folder, created when needed. */
  dir: string;
  /** Total size of the files kept on disk, in bytes. */
  maxDiskBytes: number;
  /** Total size of the PNGs kept in memory, in bytes. */
  maxMemoryBytes: number;
  /** A file's mtime is brought up to date at most this often, in ms (every hit would be a disk write). */
  touchIntervalMs: number;
  log: Logger;
  now?: () => number;
}

interface DiskEntry {
  size: number;
  /** When the file's mtime was last set, in ms. */
  touchedMs: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const TEMP_MARK = '.tmp-';
/** Names that are safe as file names everywhere keep their name; anything else is hashed. */
const PLAIN_NAME = /^[A-Za-z0-9_-]{1,150}\.png$/;

export function isPng(data: Buffer): boolean {
  return data.length > PNG_SIGNATURE.length && data.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE);
}

/** A strong ETag of the bytes, quoted as HTTP wants it. */
export function piconEtag(png: Buffer): string {
  return `"${createHash('sha1').update(png).digest('hex').slice(0, 20)}"`;
}

/** The file a key is stored in: the key itself when it is a plain name, else a hash (`~` never occurs in plain names). */
export function cacheFileName(key: string): string {
  return PLAIN_NAME.test(key) ? key : `~${createHash('sha1').update(key).digest('hex').slice(0, 32)}.png`;
}

export class PiconCache {
  /** Map order is use order, least recently used first. */
  private readonly memory = new Map<string, Picon>();
  private memoryBytes = 0;
  private index: Promise<Map<string, DiskEntry>> | undefined;
  private diskBytes = 0;
  /** Writes and evictions one at a time, so the size count stays right. */
  private readonly diskQueue = new SerialQueue();
  private readonly problem: LogOnce;
  private readonly now: () => number;

  constructor(private readonly options: PiconCacheOptions) {
    this.problem = new LogOnce((line) => options.log.warn(line));
    this.now = options.now ?? Date.now;
  }

  /** Bytes of the files on disk, as this cache counts them. */
  get diskSize(): number {
    return this.diskBytes;
  }

  /** The picon stored under `key`, from memory or disk; undefined when there is none. Never rejects. */
  async get(key: string): Promise<Picon | undefined> {
    const file = cacheFileName(key);
    const hot = this.memory.get(file);
    if (hot) {
      this.remember(file, hot);
      this.used(file, await this.loadIndex());
      return hot;
    }
    const index = await this.loadIndex();
    if (!index.has(file)) return undefined;
    let png: Buffer;
    try {
      png = await readFile(join(this.options.dir, file));
    } catch {
      // Removed behind our back (or unreadable): forget it, the caller fetches it again.
      this.forget(index, file);
      return undefined;
    }
    if (!isPng(png)) {
      await this.diskQueue.run(() => this.remove(index, file));
      return undefined;
    }
    const picon = { png, etag: piconEtag(png) };
    this.remember(file, picon);
    this.used(file, index);
    return picon;
  }

  /** Stores a picon: in memory at once, on disk soon after (`flush()` waits for that). */
  put(key: string, png: Buffer): Picon {
    const file = cacheFileName(key);
    const picon = { png, etag: piconEtag(png) };
    this.remember(file, picon);
    // write() handles its own failures; the catch only keeps a bug from becoming an unhandled rejection.
    this.diskQueue.run(() => this.write(file, png)).catch((error: unknown) => this.diskProblem(error));
    return picon;
  }

  /** Resolves when every write and eviction asked for so far is done. */
  async flush(): Promise<void> {
    await this.diskQueue.run(async () => undefined);
  }

  // -------------------------------------------------------------------------------------------

  private remember(file: string, picon: Picon): void {
    const old = this.memory.get(file);
    if (old) {
      this.memory.delete(file);
      this.memoryBytes -= old.png.length;
    }
    this.memory.set(file, picon);
    this.memoryBytes += picon.png.length;
    for (const [name, entry] of this.memory) {
      if (this.memoryBytes <= this.options.maxMemoryBytes) break;
      this.memory.delete(name);
      this.memoryBytes -= entry.png.length;
    }
  }

  /** Moves a file to the recently used end, and its mtime with it now and then. */
  private used(file: string, index: Map<string, DiskEntry>): void {
    const entry = index.get(file);
    if (!entry) return;
    index.delete(file);
    index.set(file, entry);
    const now = this.now();
    if (now - entry.touchedMs < this.options.touchIntervalMs) return;
    entry.touchedMs = now;
    const at = new Date(now);
    // Only the eviction order after a restart depends on it: a failure is not worth a log line.
    utimes(join(this.options.dir, file), at, at).catch(() => undefined);
  }

  /** The files on disk, oldest mtime first; read once. Leftover temporary files are removed. */
  private loadIndex(): Promise<Map<string, DiskEntry>> {
    this.index ??= this.readIndex();
    return this.index;
  }

  private async readIndex(): Promise<Map<string, DiskEntry>> {
    const { dir } = this.options;
    const found: Array<[string, DiskEntry]> = [];
    try {
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) {
        const path = join(dir, name);
        if (name.includes(TEMP_MARK)) {
          await unlink(path).catch(() => undefined);
          continue;
        }
        if (!name.endsWith('.png')) continue;
        const info = await stat(path).catch(() => undefined);
        if (info?.isFile()) found.push([name, { size: info.size, touchedMs: info.mtimeMs }]);
      }
    } catch (error) {
      this.diskProblem(error);
    }
    found.sort((a, b) => a[1].touchedMs - b[1].touchedMs);
    const index = new Map(found);
    this.diskBytes = found.reduce((sum, [, e]) => sum + e.size, 0);
    // The bound may have been lowered since the files were written. Not through the queue: a write
    // waits for this index inside it, and nothing else sees the index before this returns.
    await this.evict(index);
    return index;
  }

  private async write(file: string, png: Buffer): Promise<void> {
    const index = await this.loadIndex();
    const path = join(this.options.dir, file);
    const temp = `${path}${TEMP_MARK}${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(this.options.dir, { recursive: true });
      await writeFile(temp, png);
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      this.diskProblem(error);
      return;
    }
    this.problem.clear();
    this.forget(index, file);
    index.set(file, { size: png.length, touchedMs: this.now() });
    this.diskBytes += png.length;
    await this.evict(index);
  }

  /** Removes least recently used files until the total fits the bound. */
  private async evict(index: Map<string, DiskEntry>): Promise<void> {
    for (const file of [...index.keys()]) {
      if (this.diskBytes <= this.options.maxDiskBytes) return;
      await this.remove(index, file);
    }
  }

  private async remove(index: Map<string, DiskEntry>, file: string): Promise<void> {
    try {
      await unlink(join(this.options.dir, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.diskProblem(error);
    }
    this.forget(index, file);
  }

  private forget(index: Map<string, DiskEntry>, file: string): void {
    const entry = index.get(file);
    if (!entry) return;
    index.delete(file);
    this.diskBytes -= entry.size;
  }

  private diskProblem(error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    this.problem.say(`Channel logos cannot be cached in ${this.options.dir} (${code}): they are kept in memory only; check that the folder is writable.`);
  }
}
