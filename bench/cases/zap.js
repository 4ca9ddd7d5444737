/**
 * Zap latency from a HomeKit write. Baseline: the same zap sent straight to the simulated box's
 * OpenWebIF (`GET /api/zap?sRef=`), timed until `GET /api/getcurrent` reports the new channel.
 * Measured: a real Homebridge 1.11 child process (insecure mode, -I) running the compiled plugin
 * against the same simulator; a HAP `PUT /characteristics` sets the TV accessory's ActiveIdentifier
 * (what the Home app's input picker and the Control Centre remote send), timed from the request
 * until getcurrent reports the new channel, detected the same way as the baseline. A channel
 * switch on the bridge (Siri "turn on ZDF HD") is timed as well. Everything is on loopback; the
 * simulator runs in this process, Homebridge as a child that always ends.
 */
const http = require('node:http');
const { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT, dist, median, row, sleep, start, until } = require('../lib');

const PIN = '031-45-154';
const BRIDGE_NAME = 'XG2G Bench';
const BOX_NAME = 'Bench Box';
const USER_AGENT = 'xg2g-bench';
const TARGET_ADDED_MS = 300;
/** Gap between getcurrent polls while waiting for a zap to land: the detection resolution. */
const POLL_GAP_MS = 2;
/** Pause after each round so the plugin's confirming poll does not overlap the next zap. */
const SETTLE_MS = 150;
const ROUND_TIMEOUT_MS = 5_000;
/** Whole-case budget before cleanup (which takes up to ~3 s more): the suite's < 25 s / < 60 s. */
const BUDGET_MS = { smoke: 20_000, full: 52_000 };

// HAP short type UUIDs as GET /accessories lists them (HAP-NodeJS Service/Characteristic UUIDs).
const HAP = {
  Television: 'D8', ActiveIdentifier: 'E7', Switch: '49', On: '25', AccessoryInformation: '3E', SerialNumber: '30',
};

/** One HTTP request; resolves with status and parsed JSON (undefined for an empty body). */
function request(url, { method = 'GET', headers = {}, body, agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'User-Agent': USER_AGENT, ...headers }, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode, json: text ? JSON.parse(text) : undefined });
        } catch (error) {
          reject(new Error(`${method} ${url}: not JSON (${error.message}): ${text.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(ROUND_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The HAP server of one accessory (bridge or the TV) in insecure mode: the PIN as Authorization. */
class Hap {
  constructor(port) {
    this.base = `http://127.0.0.1:${port}`;
    // A HomeKit controller keeps its connection open; so does this one.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  send(method, path, body) {
    return request(`${this.base}${path}`, {
      method,
      agent: this.agent,
      headers: { Authorization: PIN, 'Content-Type': 'application/hap+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async accessories() {
    const r = await this.send('GET', '/accessories');
    if (r.status !== 200) throw new Error(`GET /accessories: HTTP ${r.status}`);
    return r.json.accessories;
  }

  /** PUT one value; resolves with the HAP status (0 = success). */
  async put(aid, iid, value) {
    const r = await this.send('PUT', '/characteristics', { characteristics: [{ aid, iid, value }] });
    if (r.status === 204) return 0;
    return r.json?.characteristics?.[0]?.status ?? -r.status;
  }

  close() {
    this.agent.destroy();
  }
}

const service = (accessory, type) => accessory.services.find((s) => s.type === type);
function iid(svc, type) {
  const c = svc?.characteristics.find((ch) => ch.type === type);
  if (!c) throw new Error(`no characteristic ${type} in service ${svc?.type}`);
  return c.iid;
}

function randomMac() {
  return Array.from({ length: 6 }, (_, i) => (i === 0 ? 0x0e : Math.floor(Math.random() * 256)).toString(16).padStart(2, '0')).join(':').toUpperCase();
}

/**
 * The plugin as Homebridge finds it: <dir>/homebridge-xg2g with the checkout's package.json and
 * the compiled dist/ the bench uses (linked, not recompiled: tsc would cost most of the time budget).
 */
function pluginPackage(dir) {
  const pkg = join(dir, 'homebridge-xg2g');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(ROOT, 'config.schema.json'), join(pkg, 'config.schema.json'));
  symlinkSync(process.env.XG2G_BENCH_DIST || join(ROOT, 'dist'), join(pkg, 'dist'), 'dir');
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  return pkg;
}

function startHomebridge(pkg, storage, sim) {
  mkdirSync(storage, { recursive: true });
  const web = new URL(sim.webUrl);
  writeFileSync(join(storage, 'config.json'), JSON.stringify({
    // ciao bound to loopback; no port given: HAP picks free ones and logs them.
    bridge: { name: BRIDGE_NAME, username: randomMac(), pin: PIN, advertiser: 'ciao', bind: ['127.0.0.1'] },
    platforms: [{
      platform: 'XG2G', name: 'xg2g',
      // The default refresh interval, as a user would have it.
      receivers: [{ name: BOX_NAME, host: web.hostname, port: Number(web.port), bouquets: ['Favourites (TV)'], streamTarget: sim.streamUrl }],
      proxy: { listen: '127.0.0.1:0' }, api: { listen: '' }, mqtt: { enabled: false },
    }],
  }, null, 2));
  // No -D: debug lines on every request would slow the measured path, and users run without it.
  return start(process.execPath, [join(ROOT, 'node_modules', 'homebridge', 'bin', 'homebridge'),
    '-I', '-Q', '-U', storage, '-P', pkg, '--strict-plugin-resolution'], {
    env: { PATH: process.env.PATH, HOME: storage, NO_COLOR: '1' },
  });
}

async function logMatch(child, pattern, timeoutMs) {
  let m = null;
  await until(() => (m = pattern.exec(child.output)) !== null || child.exitCode !== null, timeoutMs, `${pattern} in the Homebridge log`)
    .catch((error) => { throw new Error(`${error.message}; log tail:\n${child.output.slice(-3000)}`); });
  if (!m) throw new Error(`Homebridge exited (${child.exitCode}) before ${pattern}; log tail:\n${child.output.slice(-3000)}`);
  return m;
}

async function run(ctx) {
  const rounds = ctx.smoke ? 2 : 5;
  const deadline = Date.now() + (ctx.smoke ? BUDGET_MS.smoke : BUDGET_MS.full);
  /** A wait's timeout, cut to what is left of the budget. */
  const left = (ms) => Math.max(1, Math.min(ms, deadline - Date.now()));
  const { startSimulator, FAVOURITES_TV_REF } = dist('simulator');
  const { parseServiceRef, tryParseServiceRef, channelNumber, channelId } = dist('receiver/service-ref');
  const norm = (ref) => tryParseServiceRef(ref ?? '')?.ref;

  const work = mkdtempSync(join(ctx.tmp, 'zap-'));
  let sim;
  let hb;
  const haps = [];
  try {
    sim = await startSimulator({ host: '127.0.0.1', cacheDir: join(work, 'sim-cache') });
    const web = sim.webUrl.replace(/\/$/, '');
    const favourites = sim.bouquets.find((b) => b.ref === FAVOURITES_TV_REF).entries
      .filter((e) => e.channel && parseServiceRef(e.ref).flags === 0).map((e) => parseServiceRef(e.ref).ref);
    const [A, B] = favourites;
    const other = () => (norm(sim.state.channelRef) === A ? B : A);

    /** Polls getcurrent until it reports `ref`; resolves with the ms since `t0`. */
    const landed = async (ref, t0) => {
      const timeout = left(ROUND_TIMEOUT_MS);
      for (;;) {
        const r = await request(`${web}/api/getcurrent`);
        if (norm(r.json?.info?.ref) === ref) return performance.now() - t0;
        if (performance.now() - t0 > timeout) throw new Error(`the box did not report ${ref} within ${Math.round(timeout)} ms`);
        await sleep(POLL_GAP_MS);
      }
    };

    const t = performance.now();
    hb = startHomebridge(pluginPackage(join(work, 'plugins')), join(work, 'storage'), sim);
    const bridgePort = Number((await logMatch(hb, new RegExp(`\\(${BRIDGE_NAME}\\) is running on port (\\d+)`), left(30_000)))[1]);
    const tvPort = Number((await logMatch(hb, new RegExp(`${BOX_NAME}(?: [0-9A-F]{4})? is running on port (\\d+)`), left(15_000)))[1]);
    const bridge = new Hap(bridgePort);
    const tv = new Hap(tvPort);
    haps.push(bridge, tv);
    const startupMs = performance.now() - t;

    // Where to write: the TV's ActiveIdentifier, and each favourite's switch On on the bridge.
    const [tvAccessory] = await tv.accessories();
    const television = service(tvAccessory, HAP.Television);
    const tvTarget = (ref) => ({ hap: tv, aid: tvAccessory.aid, iid: iid(television, HAP.ActiveIdentifier), value: channelNumber(parseServiceRef(ref)) });
    let bridged = [];
    await until(async () => (bridged = await bridge.accessories()).some((a) => service(a, HAP.Switch)), left(10_000), 'channel switches');
    const switchTarget = (ref) => {
      const serial = channelId(parseServiceRef(ref));
      const acc = bridged.find((a) => service(a, HAP.AccessoryInformation)?.characteristics
        .some((c) => c.type === HAP.SerialNumber && c.value === serial));
      if (!acc) throw new Error(`no channel switch for ${ref}`);
      return { hap: bridge, aid: acc.aid, iid: iid(service(acc, HAP.Switch), HAP.On), value: true };
    };

    const baselineRound = async () => {
      const ref = other();
      const t0 = performance.now();
      const r = await request(`${web}/api/zap?sRef=${encodeURIComponent(ref)}`);
      if (r.status !== 200 || r.json?.result !== true) throw new Error(`zap: HTTP ${r.status} ${JSON.stringify(r.json)}`);
      return landed(ref, t0);
    };
    /** One HomeKit write; the HAP answer may come before or after the box has switched. */
    const homekitRound = async (target, answers, sequences) => {
      const ref = other();
      const { hap, aid, iid: id, value } = target(ref);
      const from = sim.requests.length;
      const t0 = performance.now();
      // Settles either way, so a failed poll below leaves no unhandled rejection behind.
      const put = hap.put(aid, id, value).then((status) => ({ status, ms: performance.now() - t0 }), (error) => ({ error }));
      const ms = await landed(ref, t0);
      const answer = await put;
      if (answer.error) throw answer.error;
      if (answer.status !== 0) throw new Error(`HAP PUT ${aid}.${id}=${value}: status ${answer.status}`);
      answers?.push(answer.ms);
      // What the plugin sent to the box for this write (the bench's own polls left out).
      sequences?.push(sim.requests.slice(from).filter((q) => q.listener === 'web' && q.headers['user-agent'] !== USER_AGENT).map((q) => q.path));
      await sleep(SETTLE_MS);
      return ms;
    };

    // One unmeasured zap each way first: connections, JIT and the plugin's first poll.
    await baselineRound();
    await homekitRound(tvTarget);
    await homekitRound(switchTarget);

    const base = [];
    for (let i = 0; i < rounds; i++) {
      base.push(await baselineRound());
      await sleep(SETTLE_MS);
    }
    const viaTv = [];
    const tvAnswers = [];
    const tvSequences = [];
    for (let i = 0; i < rounds; i++) viaTv.push(await homekitRound(tvTarget, tvAnswers, tvSequences));
    const viaSwitch = [];
    const switchSequences = [];
    for (let i = 0; i < rounds; i++) viaSwitch.push(await homekitRound(switchTarget, undefined, switchSequences));

    const baseMedian = median(base);
    const addedTv = median(viaTv) - baseMedian;
    const addedSwitch = median(viaSwitch) - baseMedian;
    const sequence = (list) => [...new Set(list.map((s) => s.join(' → ')))].join(' | ');
    const why = (added, sequences) => (added < TARGET_ADDED_MS ? '' :
      `the plugin sends ${sequence(sequences)} per write (a status poll before the zap, queued behind any poll under way); ` +
      'zapping first and confirming afterwards, or skipping the pre-zap poll while the last state is fresh, would close it');
    const baselineText = `OpenWebIF zap + getcurrent direct: median ${baseMedian.toFixed(1)} ms`;

    return [
      row({ name: 'baseline: GET /api/zap straight at the simulator until getcurrent reports it', unit: 'ms', values: base,
        note: `getcurrent polled every ${POLL_GAP_MS} ms; ${rounds} rounds alternating two favourites after one warm-up` }),
      row({ name: 'HomeKit: HAP PUT TV ActiveIdentifier (Homebridge 1.11 -I) until the box reports the channel', unit: 'ms', values: viaTv,
        baseline: baselineText, note: `plugin → box per write: ${sequence(tvSequences)}; Homebridge up in ${(startupMs / 1000).toFixed(1)} s` }),
      row({ name: 'HomeKit: HAP answer to that PUT (when the Home app shows the input chosen)', unit: 'ms', values: tvAnswers }),
      row({ name: 'HomeKit TV added latency (median HomeKit − median baseline)', unit: 'ms', values: [addedTv],
        target: `< ${TARGET_ADDED_MS} ms added`, pass: addedTv < TARGET_ADDED_MS, baseline: baselineText, note: why(addedTv, tvSequences) }),
      row({ name: 'HomeKit: HAP PUT channel switch On (bridge) until the box reports the channel', unit: 'ms', values: viaSwitch,
        baseline: baselineText, note: `plugin → box per write: ${sequence(switchSequences)}` }),
      row({ name: 'HomeKit channel switch added latency (median HomeKit − median baseline)', unit: 'ms', values: [addedSwitch],
        target: `< ${TARGET_ADDED_MS} ms added`, pass: addedSwitch < TARGET_ADDED_MS, baseline: baselineText, note: why(addedSwitch, switchSequences) }),
    ];
  } finally {
    for (const h of haps) h.close();
    await hb?.stop();
    await sim?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { title: 'Zap latency from a HomeKit write', run };
