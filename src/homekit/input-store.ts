/**
 * What users change on a TV in the Home app and HomeKit does not keep for us: the TV's name, and
 * each input's name and visibility. Stored as JSON under Homebridge's storage path, one file per
 * receiver identity, keyed by service reference so reorders and new channels keep every choice.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '../logger';
import { LogOnce } from '../retry';
import { HOMEKIT_STORAGE_DIR } from '../settings';
import { cleanName } from './names';

export interface InputChoice {
  name?: string;
  hidden?: boolean;
}

interface StoredFile {
  tvName?: string;
  inputs: Record<string, InputChoice>;
}

export class InputStore {
  private data: StoredFile = { inputs: {} };
  private readonly file: string;
  private readonly failures: LogOnce;

  constructor(storagePath: string, identity: string, private readonly log: Logger) {
    const safe = identity.toLowerCase().replace(/[^a-z0-9.-]+/g, '_');
    this.file = join(storagePath, HOMEKIT_STORAGE_DIR, `tv-${safe}.json`);
    this.failures = new LogOnce((line) => log.warn(line));
    this.data = this.read();
  }

  get tvName(): string | undefined {
    return this.data.tvName;
  }

  input(ref: string): InputChoice {
    return this.data.inputs[ref] ?? {};
  }

  setTvName(name: string): void {
    this.data.tvName = cleanName(name, 'TV');
    this.write();
  }

  setInputName(ref: string, name: string): void {
    this.data.inputs[ref] = { ...this.data.inputs[ref], name: cleanName(name) };
    this.write();
  }

  setHidden(ref: string, hidden: boolean): void {
    this.data.inputs[ref] = { ...this.data.inputs[ref], hidden };
    this.write();
  }

  /** Anything unreadable starts empty: losing renames is better than refusing to show the TV. */
  private read(): StoredFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return { inputs: {} };
    }
    try {
      const raw = JSON.parse(text) as unknown;
      const out: StoredFile = { inputs: {} };
      if (typeof raw !== 'object' || raw === null) return out;
      const r = raw as Record<string, unknown>;
      if (typeof r.tvName === 'string' && r.tvName !== '') out.tvName = cleanName(r.tvName, 'TV');
      if (typeof r.inputs === 'object' && r.inputs !== null) {
        for (const [ref, v] of Object.entries(r.inputs as Record<string, unknown>)) {
          if (typeof v !== 'object' || v === null) continue;
          const c = v as Record<string, unknown>;
          const choice: InputChoice = {};
          if (typeof c.name === 'string' && c.name !== '') choice.name = cleanName(c.name);
          if (typeof c.hidden === 'boolean') choice.hidden = c.hidden;
          out.inputs[ref] = choice;
        }
      }
      return out;
    } catch {
      this.log.warn(`${this.file} is not valid JSON; input names and hidden inputs start from the defaults.`);
      return { inputs: {} };
    }
  }

  private write(): void {
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.data, null, 2));
      renameSync(tmp, this.file);
      this.failures.clear();
    } catch (error) {
      this.failures.say(`Cannot save input names to ${this.file} (${(error as Error).message}); they will reset on restart.`);
    }
  }
}
