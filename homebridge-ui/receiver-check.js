/**
 * The settings screen's "Load bouquets" check: connects to a receiver with the address and
 * credentials typed into the form and lists its TV and radio bouquets, or says in one sentence what went wrong
 * and what to do about it. Plain CommonJS so the UI server runs it as is; the OpenWebIF client comes
 * from the built plugin (dist/).
 */
'use strict';

/** Per-request timeout for the check, in ms: long enough for a slow box, short enough for a click. */
const CHECK_TIMEOUT_MS = 6000;

/** Trimmed text of a form field; '' for anything else. */
function text(value) {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

/**
 * `input`: the form's receiver fields. Resolves to `{ ok: true, device, bouquets, radio }` (TV and
 * radio bouquet names) or
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
  const username = text(fields.username);
  const password = typeof fields.password === 'string' ? fields.password : '';
  let client;
  try {
    client = new OpenWebIfClient({
      name: text(fields.name) || undefined,
      host,
      port,
      https,
      allowSelfSigned: fields.allowSelfSigned === true,
      username,
      password,
      timeoutMs: CHECK_TIMEOUT_MS,
    });
  } catch (error) {
    // The client refuses a malformed host before connecting; its reason names the field, not secrets.
    return { ok: false, kind: 'input', message: `${capitalise(String(error && error.message ? error.message : error))}.`.replace(/\.\.$/, '.') };
  }
  try {
    const device = await client.deviceInfo();
    const bouquets = await client.bouquets('tv');
    const radio = await client.bouquets('radio');
    return {
      ok: true,
      device: { brand: device.brand, model: device.model, imageVersion: device.imageVersion, tuners: device.tunerCount },
      bouquets: bouquets.map((b) => b.name),
      radio: radio.map((b) => b.name),
    };
  } catch (error) {
    const kind = error && typeof error.kind === 'string' ? error.kind : 'unknown';
    const where = `${host.includes(':') ? `[${host}]` : host}:${port ?? (https ? 443 : 80)}`;
    return { ok: false, kind, message: explain(error || {}, { where, https, login: username !== '' || password !== '' }) };
  } finally {
    client.close();
  }
}

/**
 * One sentence for the user: what happened, then the one thing to do. Built from the error's kind
 * (and code or status) and from what was typed into the form, never from the client's own message,
 * which is written for the log and gives advice in config.json terms.
 */
function explain(error, { where, https, login }) {
  const code = typeof error.code === 'string' ? error.code : '';
  const status = typeof error.status === 'number' ? error.status : undefined;
  // A TLS handshake answered in plain HTTP: Node reports EPROTO ("wrong version number").
  const plainHttpPort = https && (code === 'EPROTO' || /WRONG_VERSION_NUMBER|ERR_SSL_/.test(code));
  switch (error.kind) {
    case 'unreachable':
      if (plainHttpPort) return `${where} answers in plain HTTP, not HTTPS: turn HTTPS off.`;
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `The host name ${where.replace(/:\d+$/, '')} does not resolve: check the address.`;
      return `Nothing answers at ${where}: check the address and port, and that the receiver is on (not in deep standby).`;
    case 'timeout':
      return `${where} did not answer within ${CHECK_TIMEOUT_MS / 1000} s: check the address, or wake the receiver from deep standby.`;
    case 'auth':
      return login
        ? 'The receiver refused the username or password: enter the OpenWebIF login set on the box.'
        : 'The receiver needs a login: enter the OpenWebIF username and password.';
    case 'forbidden':
      return 'The receiver only serves its own network while OpenWebIF authentication is off: turn authentication on in OpenWebIF and enter its login here.';
    case 'tls':
      if (plainHttpPort) return `${where} answers in plain HTTP, not HTTPS: turn HTTPS off.`;
      if (/SELF_SIGNED|UNABLE_TO/.test(code)) return 'The receiver\'s HTTPS certificate is self-signed: turn on "Accept a self-signed certificate".';
      return `The receiver's HTTPS certificate was not accepted (${code || 'unknown reason'}): turn on "Accept a self-signed certificate" if you trust this box.`;
    case 'protocol':
      if (status !== undefined && status >= 300 && status < 400 && !https) return `${where} redirects elsewhere, probably to HTTPS: turn HTTPS on and set its port (usually 443).`;
      return `Something answers at ${where}, but not OpenWebIF: check the port${https ? '' : ', or turn HTTPS on if the web interface uses it'}.`;
    case 'rejected':
      return `The receiver refused the request (${typeof error.boxMessage === 'string' ? error.boxMessage : 'no reason given'}): check the receiver's OpenWebIF settings.`;
    default:
      return `The receiver could not be read (${code || error.kind || 'unknown error'}): check the address and try again.`;
  }
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

module.exports = { readBouquets, explain, CHECK_TIMEOUT_MS };
