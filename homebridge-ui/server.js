/**
 * The custom settings screen's server (run by the Homebridge UI as a child process): answers the
 * page's "/bouquets" request with the receiver's bouquets, using the built plugin's OpenWebIF client.
 * @homebridge/plugin-ui-utils is an ES module, so it is imported dynamically from this CommonJS file.
 */
'use strict';

const path = require('node:path');
const { readBouquets } = require('./receiver-check');

async function main() {
  const { HomebridgePluginUiServer } = await import('@homebridge/plugin-ui-utils');
  const { OpenWebIfClient } = require(path.join(__dirname, '..', 'dist', 'receiver', 'client.js'));

  class XG2GUiServer extends HomebridgePluginUiServer {
    constructor() {
      super();
      this.onRequest('/bouquets', (payload) => readBouquets(payload, OpenWebIfClient));
      this.ready();
    }
  }
  return new XG2GUiServer();
}

main().catch((error) => {
  console.error(`The XG2G settings screen could not start: ${error && error.message ? error.message : error}`);
  process.exit(1);
});
