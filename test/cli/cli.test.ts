// The xg2g command in-process: usage and help, channels and doctor against a real simulator
// (auth, wrong password, dead port, busy port), and simulate/demo stopping on abort.
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, runCli } from '../../src/cli';
import { startSimulator, type Simulator } from '../../src/simulator';

const USER = 'root';
const PASSWORD = 'pw-s3cret-9731';

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, { env: { PATH: process.env.PATH, ...env }, stdout, stderr });
  return { code, out: stdout.text, err: stderr.text };
}

/** Start a long-running command; `stop()` aborts it and resolves to its result. */
function start(argv: string[], env: NodeJS.ProcessEnv = {}): { stdout: Capture; stderr: Capture; done: Promise<number>; stop(): Promise<number> } {
  const stdout = new Capture();
  const stderr = new Capture();
  const ac = new AbortController();
  const done = runCli(argv, { env: { PATH: process.env.PATH, ...env }, stdout, stderr, signal: ac.signal });
  return {
    stdout, stderr, done,
    stop: () => {
      ac.abort();
      return done;
    },
  };
}

/** Resolves once `cond` holds, or rejects as soon as the command ended without it. */
async function until(cond: () => boolean, ended: Promise<number>): Promise<void> {
  let finished = false;
  void ended.then(() => (finished = true), () => (finished = true));
  while (!cond()) {
    if (finished) throw new Error('command ended early');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port nothing listens on: bind port 0, note it, close. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function expectNoStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toContain(PASSWORD);
}

let sim: Simulator;
let dir: string;
let env: NodeJS.ProcessEnv;
let firstChannel: { ref: string; name: string };

beforeAll(async () => {
  sim = await startSimulator({ host: '127.0.0.1', webPort: 0, streamPort: 0, relayPort: 0, auth: { username: USER, password: PASSWORD } });
  dir = mkdtempSync(join(tmpdir(), 'xg2g-cli-'));
  env = { XG2G_OWI_BASE: sim.webUrl, XG2G_OWI_USER: USER, XG2G_OWI_PASS: PASSWORD, XG2G_PROXY_LISTEN: '127.0.0.1:0', XG2G_LISTEN: '' };
  const fav = sim.bouquets.find((b) => b.name === 'Favourites (TV)');
  const entry = fav?.entries.find((e) => e.channel);
  if (!entry?.channel) throw new Error('simulator has no favourites channel');
  firstChannel = { ref: entry.channel.ref, name: entry.channel.name };
});

afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('usage', () => {
  it('--help lists every command, exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['simulate', 'channels', 'doctor', 'demo']) expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r).toEqual({ code: 0, out: '0.1.0\n', err: '' });
  });

  it('no command or an unknown one: usage on stderr, exit 2', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('Usage: xg2g <command>');
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^xg2g: unknown command "frobnicate"\nUsage: xg2g <command>/);
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help prints its usage, exit 0', async (name) => {
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: xg2g ${name}`));
    expect(r.err).toBe('');
  });

  it('a bad option is a usage error, exit 2', async () => {
    const r = await run(['channels', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^xg2g channels: unknown option --bogus\nUsage: xg2g channels/);
    const port = await run(['simulate', '--web-port', 'eighty']);
    expect(port.code).toBe(2);
    expect(port.err).toContain('--web-port must be a whole number, not "eighty"');
  });
});

describe('channels', () => {
  it('lists the configured bouquet as a table: position, name, ref', async () => {
    const r = await run(['channels'], env);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Receiver \(127\.0\.0\.1:\d+\): \d+ TV bouquets: .*Favourites \(TV\)/);
    expect(r.out).toMatch(/\nFavourites \(TV\) \(\d+ channels\)\n {2}Pos {2}Name +Ref\n/);
    const row = r.out.split('\n').find((l) => l.endsWith(firstChannel.ref));
    expect(row).toMatch(new RegExp(`^ +\\d+  ${firstChannel.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +${firstChannel.ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(r.out).not.toContain('1:64:'); // markers are not channels
    expectNoStack(r.out);
  });

  it('reads the receiver from a YAML --config file, bouquet names from XG2G_BOUQUET', async () => {
    const url = new URL(sim.webUrl);
    const file = join(dir, 'xg2g.yaml');
    writeFileSync(file, `receivers:\n  - name: Sim Box\n    host: 127.0.0.1\n    port: ${url.port}\n    username: ${USER}\n    password: ${PASSWORD}\n`);
    const r = await run(['channels', '--config', file], { XG2G_BOUQUET: 'favourites (tv)' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Sim Box \(127\.0\.0\.1:\d+\)/);
    expect(r.out).toContain(firstChannel.ref);
  });

  it('--all lists every TV bouquet', async () => {
    const r = await run(['channels', '--all'], env);
    expect(r.code).toBe(0);
    const tv = sim.bouquets.filter((b) => b.kind === 'tv');
    for (const b of tv) expect(r.out).toMatch(new RegExp(`\\n${b.name.replace(/[()]/g, '\\$&')} \\(\\d+ channels?\\)\\n`));
  });

  it('a missing bouquet is named, with the ones the box has; exit 1', async () => {
    const r = await run(['channels'], { ...env, XG2G_BOUQUET: 'Nope' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('Bouquet "Nope" was not found on Receiver (127.0.0.1:');
    expect(r.err).toContain('"Favourites (TV)"');
    expect(r.err).toContain('None of the configured bouquets exists on the receiver');
  });

  it('a wrong password: a clear sentence, no stack, no password', async () => {
    const r = await run(['channels'], { ...env, XG2G_OWI_PASS: 'wrong-pass-123' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Receiver \(127\.0\.0\.1:\d+\) refused the user name or password \(HTTP 401\) for \/api\/bouquets: check username\/password\.\n$/);
    expect(r.err).not.toContain('wrong-pass-123');
    expectNoStack(r.err);
  });

  it('a dead port: a clear sentence, no stack, no password', async () => {
    const r = await run(['channels'], { ...env, XG2G_OWI_BASE: `http://127.0.0.1:${await deadPort()}` });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Receiver \(127\.0\.0\.1:\d+\) refused the connection \(ECONNREFUSED\)/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expectNoStack(r.err);
  });

  it('without a receiver: says how to configure one', async () => {
    const r = await run(['channels']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('No receiver is configured: set XG2G_OWI_BASE');
  });

  it('an invalid config: every problem, exit 1, no password', async () => {
    const r = await run(['channels'], { ...env, XG2G_OWI_BASE: `ftp://u:${PASSWORD}@box`, XG2G_MAX_SESSIONS: 'x' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('The configuration has 2 problems:\n  XG2G_OWI_BASE: "ftp://u:***@box" must start with http:// or https://\n  XG2G_MAX_SESSIONS: "x" is not a number\n');
    expectNoStack(r.err);
  });
});

describe('doctor', () => {
  const lines = (out: string): string[] => out.split('\n');

  it('all checks pass against the simulator, passwords redacted', async () => {
    const r = await run(['doctor'], env);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.out);
    expect(out[0]).toMatch(/^✓ config valid: 1 receiver: Receiver \(http:\/\/127\.0\.0\.1:\d+, user root with password \*\*\*, bouquets "Favourites \(TV\)"\); proxy on 127\.0\.0\.1:0; API off; MQTT off$/);
    expect(out).toContainEqual(expect.stringMatching(/^✓ Receiver \(127\.0\.0\.1:\d+\): reachable$/));
    expect(out).toContainEqual(expect.stringMatching(/^✓ Receiver \(127\.0\.0\.1:\d+\): login works \(.+, \d+ tuners?\)$/));
    expect(out).toContainEqual(expect.stringMatching(/^✓ Receiver \(127\.0\.0\.1:\d+\): bouquets found: "Favourites \(TV\)" \(\d+ channels\)$/));
    expect(out).toContainEqual(expect.stringMatching(/^✓ ffmpeg found: \/\S+ffmpeg \(from PATH\), version \d+\.\d+/));
    expect(out).toContain('✓ proxy.listen 127.0.0.1:0: any free port will be used');
    expect(r.out).toContain('All checks passed.');
    expect(r.out).not.toContain('✗');
    expectNoStack(r.out);
  });

  it('a wrong password fails the login check, exit 1', async () => {
    const r = await run(['doctor'], { ...env, XG2G_OWI_PASS: 'wrong-pass-123' });
    expect(r.code).toBe(1);
    expect(lines(r.out)).toContainEqual(expect.stringMatching(/^✓ Receiver \(127\.0\.0\.1:\d+\): reachable$/));
    expect(lines(r.out)).toContainEqual(expect.stringMatching(/^✗ Receiver \(127\.0\.0\.1:\d+\): login failed: .*refused the user name or password \(HTTP 401\)/));
    expect(r.out).toContain('1 check failed.');
    expect(r.out).not.toContain('wrong-pass-123');
    expectNoStack(r.out + r.err);
  });

  it('a dead port fails the reachable check, exit 1', async () => {
    const r = await run(['doctor'], { ...env, XG2G_OWI_BASE: `http://127.0.0.1:${await deadPort()}` });
    expect(r.code).toBe(1);
    expect(lines(r.out)).toContainEqual(expect.stringMatching(/^✗ Receiver \(127\.0\.0\.1:\d+\): not reachable: .*ECONNREFUSED/));
    expect(r.out).not.toMatch(/login works|bouquets found/);
    expectNoStack(r.out + r.err);
  });

  it('a missing bouquet and a busy port fail their checks', async () => {
    const busy: Server = createServer();
    await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
    try {
      const { port } = busy.address() as { port: number };
      const r = await run(['doctor'], { ...env, XG2G_BOUQUET: 'Favourites (TV),Nope', XG2G_LISTEN: `127.0.0.1:${port}` });
      expect(r.code).toBe(1);
      expect(lines(r.out)).toContainEqual(expect.stringMatching(/^✗ Receiver \(127\.0\.0\.1:\d+\): bouquet not found: "Nope"; the receiver has .*"Favourites \(TV\)"/));
      expect(lines(r.out)).toContain(`✗ api.listen 127.0.0.1:${port}: port ${port} is in use (is xg2g or Homebridge already running?)`);
      expect(r.out).toContain('2 checks failed.');
    } finally {
      await new Promise<void>((res) => busy.close(() => res()));
    }
  });

  it('an invalid config is one failed check listing the problems; ffmpeg is still checked', async () => {
    const r = await run(['doctor'], { XG2G_AUDIO_BITRATE: 'fast', XG2G_PROXY_LISTEN: 'nowhere' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ config invalid:\n {2}XG2G_PROXY_LISTEN: "nowhere" is not an address.*\n {2}XG2G_AUDIO_BITRATE: "fast" is not a bitrate like 192k\n/);
    expect(r.out).toMatch(/\n✓ ffmpeg found: /);
  });

  it('a bogus ffmpeg path fails the ffmpeg check', async () => {
    const r = await run(['doctor'], { ...env, XG2G_FFMPEG_PATH: '/nonexistent/ffmpeg' });
    expect(r.code).toBe(1);
    expect(lines(r.out)).toContain(
      '✗ ffmpeg: The configured ffmpeg "/nonexistent/ffmpeg" (proxy.ffmpegPath / XG2G_FFMPEG_PATH) does not exist. ' +
        'Fix the path, or leave it empty to use ffmpeg-for-homebridge or ffmpeg on PATH.',
    );
  });
});

describe('long-running commands', () => {
  it('simulate serves until aborted, then closes its ports', async () => {
    const cmd = start(['simulate', '--web-port', '0', '--stream-port', '0', '--relay-port', '0', '--tuners', '3', '--auth', `${USER}:${PASSWORD}`]);
    await until(() => cmd.stdout.text.includes('Press Ctrl-C'), cmd.done);
    const webUrl = /web interface +(http:\/\/\S+)/.exec(cmd.stdout.text)?.[1];
    expect(webUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cmd.stdout.text).toMatch(/stream port +http:\/\/127\.0\.0\.1:\d+/);
    expect(cmd.stdout.text).not.toContain(PASSWORD);
    const res = await fetch(`${webUrl}/api/deviceinfo`, { headers: { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { tuners: unknown[] }).tuners).toHaveLength(3);

    expect(await cmd.stop()).toBe(0);
    expect(cmd.stdout.text).toContain('Simulator stopped.');
    await expect(fetch(`${webUrl}/api/deviceinfo`)).rejects.toThrow();
  });

  it('demo prints what runs where and stops on abort', async () => {
    const cmd = start(['demo']);
    await until(() => cmd.stdout.text.includes('Press Ctrl-C'), cmd.done);
    const out = cmd.stdout.text;
    const webUrl = /web interface \(OpenWebIF\) +(http:\/\/\S+)/.exec(out)?.[1];
    expect(webUrl).toBeDefined();
    expect(out).toMatch(/example channel stream +http:\/\/127\.0\.0\.1:\d+\/\S+ +\(.+; open in VLC\)/);
    expect(out).toContain(`XG2G_OWI_BASE=${webUrl} xg2g channels`);
    // The printed hint works.
    const r = await run(['channels'], { XG2G_OWI_BASE: webUrl });
    expect(r.code).toBe(0);
    // The proxy part serves a channel VLC can open, from the printed URL.
    const channelUrl = /one channel \(open in VLC\) +(http:\/\/\S+)/.exec(out)?.[1];
    expect(channelUrl).toBeDefined();
    const response = await fetch(channelUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp2t');
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.value![0]).toBe(0x47);
    await reader.cancel();
    expect(out).toMatch(/playlist \(open in VLC\) +http:\/\/127\.0\.0\.1:\d+\/playlist\.m3u/);

    expect(await cmd.stop()).toBe(0);
    expect(cmd.stdout.text).toContain('Demo stopped.');
    await expect(fetch(`${webUrl}/api/statusinfo`)).rejects.toThrow();
  });

  it('serve exits with 1 and one line naming proxy.listen when the proxy port is taken, closing what it opened', async () => {
    const sim = await startSimulator();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const result = await run(['serve'], {
        XG2G_OWI_BASE: sim.webUrl, XG2G_PROXY_TARGET: sim.streamUrl, XG2G_PROXY_LISTEN: `127.0.0.1:${taken}`, XG2G_LISTEN: '',
      });
      expect(result.code).toBe(1);
      expect(result.err).toMatch(new RegExp(`stream proxy is off: port ${taken} \\(127\\.0\\.0\\.1:${taken}\\) is in use`));
      expect(result.err).toContain(`could not open 127.0.0.1:${taken}`);
      expectNoStack(result.err);
    } finally {
      await new Promise((r) => blocker.close(r));
      await sim.close();
    }
  });

  it('serve runs the proxy from the seed\'s XG2G_* variables alone', async () => {
    const sim = await startSimulator();
    try {
      const cmd = start(['serve'], {
        XG2G_OWI_BASE: sim.webUrl,
        XG2G_PROXY_TARGET: sim.streamUrl,
        XG2G_ENABLE_STREAM_PROXY: 'true',
        XG2G_PROXY_LISTEN: '127.0.0.1:0',
        XG2G_LISTEN: '',
      });
      await until(() => cmd.stdout.text.includes('Playlist for VLC'), cmd.done);
      const base = /Playlist for VLC: +(http:\/\/127\.0\.0\.1:\d+)\/playlist\.m3u/.exec(cmd.stdout.text)?.[1];
      expect(base).toBeDefined();
      const response = await fetch(`${base}/1:0:19:132F:3EF:1:C00000:0:0:0:`);
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(first.value![0]).toBe(0x47);
      await reader.cancel();
      expect(await cmd.stop()).toBe(0);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      await sim.close();
    }
  });
});
