/**
 * What the plugin remembers about each receiver between runs, in one small JSON file in the App's
 * cache folder: the MAC last read from its deviceinfo, so a box that is in deep standby when the
 * plugin starts can still be woken with Wake-on-LAN. Keyed by the configured address (host:port).
 * Reads and writes never throw: a missing or broken file means "nothing remembered".
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECEIVER_MEMORY_FILE } from '../settings';
import { macBytes } from './wake';

interface MemoryFile {
  version: 1;
  receivers: Record<string, { mac: string; seen: string }>;
}

/** Writes to one file from one process happen one after another (several receivers share it). */
let writing: Promise<unknown> = Promise.resolve();

/** Resolves once every remembered MAC queued so far is written (the App's stop waits for it). */
export function memoryWritten(): Promise<unknown> {
  return writing;
}

export class ReceiverMemory {
  private readonly file: string;

  /** `key`: the receiver's configured address, `host:port`. */
  constructor(cacheDir: string, private readonly key: string) {
    this.file = join(cacheDir, RECEIVER_MEMORY_FILE);
  }

  /** The MAC remembered for this receiver; null when none (or the file cannot be read). */
  async mac(): Promise<string | null> {
    const data = await this.read();
    const mac = data.receivers[this.key]?.mac;
    return typeof mac === 'string' && macBytes(mac) ? mac : null;
  }

  /** Remembers a MAC; resolves to an error sentence when it could not be written, else undefined. */
  remember(mac: string): Promise<string | undefined> {
    const job = writing.then(async () => {
      const data = await this.read();
      if (data.receivers[this.key]?.mac === mac) return undefined;
      data.receivers[this.key] = { mac, seen: new Date().toISOString() };
      try {
        await mkdir(join(this.file, '..'), { recursive: true });
        // Write then rename: a crash mid-write must not leave half a file behind.
        const temporary = `${this.file}.${process.pid}.tmp`;
        await writeFile(temporary, `${JSON.stringify(data, null, 2)}\n`, 'utf8');
        await rename(temporary, this.file);
        return undefined;
      } catch (error) {
        return `Could not remember the receiver's MAC address in ${this.file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); Wake-on-LAN after a restart needs receivers[].mac then.`;
      }
    });
    writing = job.catch(() => undefined);
    return job;
  }

  private async read(): Promise<MemoryFile> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && (parsed as MemoryFile).version === 1) {
        const receivers = (parsed as MemoryFile).receivers;
        if (typeof receivers === 'object' && receivers !== null && !Array.isArray(receivers)) return { version: 1, receivers: { ...receivers } };
      }
    } catch {
      // Missing or unreadable: nothing remembered yet.
    }
    return { version: 1, receivers: {} };
  }
}
