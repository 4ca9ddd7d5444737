/** The package version, read from package.json next to src/ or dist/ (both sit one level below it). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PLUGIN_NAME } from './settings';

export function packageVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PLUGIN_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not here: look one level up.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
