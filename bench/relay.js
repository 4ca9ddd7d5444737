#!/usr/bin/env node
/**
 * The baseline for the proxy's own cost: the barest Node relay of a stream, an HTTP server that
 * pipes each GET to the same path at `process.argv[2]`. Prints its URL. Run as its own process
 * so its CPU can be read from /proc like the proxy's.
 */
const http = require('node:http');

const target = process.argv[2];
const server = http.createServer((req, res) => {
  const upstream = http.get(`${target}${req.url}`, { agent: false }, (up) => {
    res.writeHead(up.statusCode, { 'Content-Type': 'video/mp2t' });
    up.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`relay http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
