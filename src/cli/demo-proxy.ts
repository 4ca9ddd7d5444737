/**
 * The core as a part of `xg2g demo`: one App against the simulator the first part started, with
 * the stream proxy on the usual port 18000 when it is free, and MQTT publishing to the demo's
 * broker when the MQTT part started one.
 */
import { App } from '../app';
import { loadConfig } from '../config';
import { PROXY_LISTEN_DEFAULT } from '../settings';
import { streamPath } from '../stream/backend';
import type { DemoPart } from './demo';
import { DEMO_RECEIVER_NAME } from './demo-mqtt';
import { simulatorReceiver } from './demo-receiver';
import { portFree } from './ports';
import { demoLogger } from './io';

export const proxyPart: DemoPart = {
  title: 'Stream proxy (AC-3/MP2 → AAC, HLS) and MQTT bridge',
  async start(ctx) {
    const sim = ctx.simulator;
    if (!sim) throw new Error('the proxy part needs the simulator part before it');
    const port = Number(PROXY_LISTEN_DEFAULT.slice(1));
    const listen = `${ctx.host}:${(await portFree(ctx.host, port)) ? port : 0}`;
    const config = loadConfig({
      env: {},
      block: {
        receivers: [simulatorReceiver(sim, DEMO_RECEIVER_NAME)],
        proxy: { listen },
        api: { listen: '' },
        mqtt: ctx.mqttUrl ? { enabled: true, url: ctx.mqttUrl } : { enabled: false },
      },
    });
    const app = new App(config, demoLogger(ctx.io, 'core'));
    await app.start();
    const url = app.proxyUrl!;
    const example = ctx.channels?.[0];
    const lines = [`web page (browser)         ${url}/`, `playlist (open in VLC)     ${url}/playlist.m3u`, `programme guide (XMLTV)    ${url}/xmltv.xml`];
    if (example) {
      lines.push(`one channel (open in VLC)  ${url}${streamPath(example.ref)}  (${example.name})`);
      lines.push(`the same as HLS (Safari)   ${url}/hls${streamPath(example.ref)}/index.m3u8`);
    }
    lines.push(`status / metrics           ${url}/api/status   ${url}/metrics`);
    lines.push(`the same from the command  XG2G_OWI_BASE=${sim.webUrl.replace(/\/$/, '')} XG2G_PROXY_TARGET=auto xg2g serve`);
    return { lines, close: () => app.stop() };
  },
};
