// Test helper: the plugin as a user gets it. The published files are staged with a fresh build
// (what `npm run build` compiles, written to the stage so the repository's dist/ is left alone for
// whoever else is using it), packed with `npm pack`, and the tarball is installed with `npm install`
// into a plugin folder, its dependencies taken from the npm cache `npm ci` filled.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Builds and packs the plugin into `dir`; returns the tarball's path. */
export function packPlugin(dir: string): string {
  const stage = join(dir, 'stage');
  mkdirSync(stage, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  cpSync(join(ROOT, 'package.json'), join(stage, 'package.json'));
  for (const entry of pkg.files) {
    if (entry !== 'dist' && existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(stage, entry), { recursive: true });
  }
  try {
    run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], ROOT);
  } catch (error) {
    // Type errors (tsc --noEmit reports them) still emit JavaScript; only missing output is fatal.
    if (!existsSync(join(stage, 'dist', 'index.js')) || !existsSync(join(stage, 'dist', 'receiver', 'client.js'))) throw error;
  }
  const packed = JSON.parse(run(NPM, ['pack', '--json', '--pack-destination', dir], stage)) as Array<{ filename: string }>;
  return join(dir, packed[0].filename);
}

/**
 * Installs the tarball into `<dir>/plugins` the way a user's npm would (no dev dependencies), and
 * links the Homebridge UI from this repository's devDependencies beside it. Install scripts stay
 * off: the only one (ffmpeg-for-homebridge's download) would need the internet. Returns the
 * node_modules folder to give Homebridge as its plugin path.
 */
export function installPlugin(tarball: string, dir: string): string {
  const plugins = join(dir, 'plugins');
  mkdirSync(plugins, { recursive: true });
  writeFileSync(join(plugins, 'package.json'), JSON.stringify({ private: true }));
  run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=dev', tarball], plugins);
  const modules = join(plugins, 'node_modules');
  symlinkSync(join(ROOT, 'node_modules', 'homebridge-config-ui-x'), join(modules, 'homebridge-config-ui-x'), 'dir');
  return modules;
}
