/**
 * The settings screen's "Load bouquets" check: connects to a receiver with the address and
 * credentials typed into the form and lists its TV bouquets, or says in one sentence why it could
 * not (unreachable, refused credentials, certificate, not an OpenWebIF box). Plain CommonJS so the
 * UI server runs it as is; the OpenWebIF client comes from the built plugin (dist/).
 */
'use strict';

/** Per-request timeout for the check, in ms: long enough for a slow box, short enough for a click. */
const CHECK_TIMEOUT_MS = 6000;

const ADVICE = {
  unreachable: 'Check the address and port, and that the receiver is switched on (not in deep standby) and on this network.',
  timeout: 'The receiver did not answer in time: check the address, or wake it from deep standby.',
  auth: 'The receiver refused the username or password: enter the OpenWebIF login set on the box.',
  forbidden: 'OpenWebIF refuses clients outside its own subnet unless authentication is on: turn on authentication on the box and enter its login.',
  tls: 'The HTTPS certificate was not accepted: turn on "Accept a self-signed certificate", or use HTTP.',
  protocol: 'Something answers there, but not OpenWebIF: check the port (the web interface, usually 80 or 443).',
  rejected: 'The receiver refused the request.',
};

/** Trimmed text of a form field; '' for anything else. */
function text(value) {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

/**
 * `input`: the form's receiver fields. Resolves to `{ ok: true, device, bouquets }` or
 * `{ ok: false, kind, message }`; never rejects and never echoes the password.
 */
async function readBouquets(input, OpenWebIfClient) {
  const fields = input && typeof input === 'object' ? input : {};
  const host = text(fields.host).replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (host === '') return { ok: false, kind: 'input', message: 'Enter the receiver\'s IP address or host name first.' };
  const https = fields.https === true;
  const portText = text(fields.port);
  const port = portText === '' ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    return { ok: false, kind: 'input', message: `Port ${portText} is not a number from 1 to 65535.` };
  }
  let client;
  try {
    client = new OpenWebIfClient({
      name: text(fields.name) || undefined,
      host,
      port,
      https,
      allowSelfSigned: fields.allowSelfSigned === true,
      username: text(fields.username),
      password: typeof fields.password === 'string' ? fields.password : '',
      timeoutMs: CHECK_TIMEOUT_MS,
    });
  } catch (error) {
    return { ok: false, kind: 'input', message: `${capitalise(error.message)}.` };
  }
  try {
    const device = await client.deviceInfo();
    const bouquets = await client.bouquets('tv');
    return {
      ok: true,
      device: { brand: device.brand, model: device.model, imageVersion: device.imageVersion, tuners: device.tunerCount },
      bouquets: bouquets.map((b) => b.name),
    };
  } catch (error) {
    const kind = error && typeof error.kind === 'string' ? error.kind : 'unknown';
    const advice = ADVICE[kind] || '';
    return { ok: false, kind, message: [String(error && error.message ? error.message : error), advice].filter(Boolean).join('. ').replace(/\.\./g, '.') };
  } finally {
    client.close();
  }
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

module.exports = { readBouquets, CHECK_TIMEOUT_MS };
