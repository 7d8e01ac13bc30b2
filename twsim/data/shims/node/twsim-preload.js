'use strict';
/*
 * twsim's Node shim: the twilio SDK's API traffic goes to a twsim gateway, none to Twilio.
 *
 * `twsim exec` (and `twsim env`) add `--require <this file>` to NODE_OPTIONS and set
 * TWSIM_GATEWAY_URL; Node loads it before the app. It works below the SDK, on Node's own
 * `http`/`https` modules, so it holds for every twilio-node (3.x on `request` or axios,
 * 4.x, 5.x), every client object the app builds, and custom `httpClient`s alike:
 *
 * - a request for api.twilio.com, with or without an edge or region (also in a proxy's
 *   absolute-URL form), is sent over plain HTTP to the gateway instead;
 * - a request for any other Twilio host (messaging.twilio.com, *.twil.io, ...) fails with
 *   a TwilioHostRefused error, and a line on stderr; so does any socket connection or
 *   `dns.lookup` of such a host, whatever library makes it. Nothing is sent.
 */

const http = require('http');
const https = require('https');
const net = require('net');
const dns = require('dns');
const Module = require('module');

const GATEWAY_TEXT = (process.env.TWSIM_GATEWAY_URL || '').trim().replace(/\/+$/, '');
const GATEWAY = GATEWAY_TEXT ? new URL(GATEWAY_TEXT) : null;
const TWILIO_DOMAINS = ['twilio.com', 'twil.io'];
const PATCHED = Symbol.for('twsim.preload');
const told = new Set();

// Options that choose a transport: dropped when a request is re-aimed at the gateway.
const TRANSPORT = new Set([
  'agent', 'host', 'hostname', 'port', 'protocol', 'path', 'socketPath', 'createConnection',
  'lookup', 'family', 'localAddress', 'defaultPort', '_defaultAgent', 'servername', 'ca',
  'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'checkServerIdentity',
]);

function hostName(value) {
  let name = String(value || '').toLowerCase();
  if (name.startsWith('[')) return name.slice(1, name.indexOf(']'));
  if ((name.match(/:/g) || []).length === 1) name = name.split(':')[0];
  return name.replace(/\.$/, '');
}

function isTwilioHost(value) {
  const name = hostName(value);
  return TWILIO_DOMAINS.some((domain) => name === domain || name.endsWith('.' + domain));
}

// api.twilio.com, api.REGION.twilio.com or api.EDGE.REGION.twilio.com
function isApiHost(value) {
  const labels = hostName(value).split('.');
  return labels[0] === 'api' && labels.slice(-2).join('.') === 'twilio.com'
    && labels.length >= 3 && labels.length <= 5;
}

function refusal(what, why) {
  const message = `twsim: refused ${what}: ${why}; nothing was sent`;
  if (!told.has(what)) {
    told.add(what);
    process.stderr.write(message + '\n');
  }
  const error = new Error(message);
  error.name = 'TwilioHostRefused';
  error.code = 'ECONNREFUSED';
  return error;
}

function connectionRefusal(host) {
  return refusal(
    `a connection to ${hostName(host)}`,
    'a process run by twsim reaches no Twilio host (the twilio SDK\'s REST API calls go to '
      + (GATEWAY_TEXT || 'the gateway') + ')'
  );
}

// The gateway's URL for a Twilio REST API URL; throws the refusal for other Twilio hosts.
function route(target) {
  if (!GATEWAY) throw refusal(`a request to ${target.hostname}`, 'TWSIM_GATEWAY_URL is not set');
  if (!isApiHost(target.hostname)) {
    throw refusal(
      `a request to ${target.protocol}//${target.hostname}${target.pathname}`,
      `the gateway at ${GATEWAY_TEXT} simulates the api.twilio.com REST API only`
    );
  }
  const prefix = GATEWAY.pathname.replace(/\/+$/, '');
  return new URL(prefix + target.pathname + target.search, GATEWAY.origin);
}

// Node's `request(url[, options][, callback])` / `request(options[, callback])`, as one.
function requestArgs(args) {
  let input = args[0];
  let options = args[1];
  let callback = args[2];
  if (typeof input === 'string' || input instanceof URL) {
    input = new URL(String(input));
  } else {
    callback = options;
    options = input;
    input = null;
  }
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const merged = Object.assign({}, input ? urlOptions(input) : {}, options || {});
  return { options: merged, callback: typeof callback === 'function' ? callback : undefined };
}

function urlOptions(url) {
  const options = {
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname + url.search,
  };
  if (url.port) options.port = Number(url.port);
  if (url.username || url.password) {
    options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  }
  return options;
}

// The Twilio URL a request is for (directly, or through a proxy), or null.
function twilioTarget(options, defaultProtocol) {
  const path = String(options.path || '/');
  if (/^https?:\/\//i.test(path)) {
    const absolute = new URL(path);
    if (isTwilioHost(absolute.hostname)) return absolute;
  }
  const host = options.hostname || options.host;
  if (!isTwilioHost(host)) return null;
  return new URL(path, `${options.protocol || defaultProtocol}//${hostName(host)}`);
}

function withoutHostHeader(headers) {
  if (Array.isArray(headers)) {
    const kept = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() !== 'host') kept.push(headers[i], headers[i + 1]);
    }
    return kept;
  }
  const kept = {};
  for (const [name, value] of Object.entries(headers || {})) {
    if (name.toLowerCase() !== 'host') kept[name] = value;
  }
  return kept;
}

// A request that fails with `error` once the caller has attached its handlers.
function failedRequest(original, error, callback) {
  const request = original({
    host: 'twsim.invalid',
    createConnection() { // used because no agent is given
      const socket = new net.Socket();
      process.nextTick(() => socket.destroy(error));
      return socket;
    },
  }, callback);
  return request;
}

const real = {
  httpRequest: http.request,
  httpsRequest: https.request,
  connect: net.Socket.prototype.connect,
  lookup: dns.lookup,
  promisesLookup: dns.promises && dns.promises.lookup,
};

function viaGateway(original, defaultProtocol) {
  return function request(...args) {
    const { options, callback } = requestArgs(args);
    const target = twilioTarget(options, defaultProtocol);
    if (!target) return original.apply(this, args);
    let destination;
    try {
      destination = route(target);
    } catch (error) {
      return failedRequest(real.httpRequest, error, callback);
    }
    const aimed = {};
    for (const [name, value] of Object.entries(options)) {
      if (!TRANSPORT.has(name)) aimed[name] = value;
    }
    aimed.protocol = destination.protocol;
    aimed.hostname = destination.hostname;
    aimed.port = destination.port || (destination.protocol === 'https:' ? 443 : 80);
    aimed.path = destination.pathname + destination.search;
    aimed.headers = withoutHostHeader(options.headers);
    const send = destination.protocol === 'https:' ? real.httpsRequest : real.httpRequest;
    return send(aimed, callback);
  };
}

function install() {
  if (http[PATCHED]) return;
  http[PATCHED] = true;
  for (const [module, original, protocol] of [
    [http, real.httpRequest, 'http:'],
    [https, real.httpsRequest, 'https:'],
  ]) {
    const request = viaGateway(original, protocol);
    module.request = request;
    // `get` calls the module's own `request` binding, so it is replaced as well.
    module.get = function get(...args) {
      const outgoing = request.apply(this, args);
      outgoing.end();
      return outgoing;
    };
  }

  net.Socket.prototype.connect = function connect(...args) {
    let options = args[0];
    if (Array.isArray(options)) options = options[0]; // net's normalized [options, callback]
    const host = options && typeof options === 'object' ? options.host : args[1];
    if (typeof host === 'string' && isTwilioHost(host)) {
      const error = connectionRefusal(host);
      process.nextTick(() => this.destroy(error));
      return this;
    }
    return real.connect.apply(this, args);
  };

  dns.lookup = function lookup(hostname, options, callback) {
    if (isTwilioHost(hostname)) {
      const done = typeof options === 'function' ? options : callback;
      const error = connectionRefusal(hostname);
      process.nextTick(() => done(error));
      return {};
    }
    return real.lookup.apply(this, arguments);
  };
  if (real.promisesLookup) {
    dns.promises.lookup = function lookup(hostname, ...rest) {
      if (isTwilioHost(hostname)) return Promise.reject(connectionRefusal(hostname));
      return real.promisesLookup.call(this, hostname, ...rest);
    };
  }
  // ES modules that import { request } from 'https' see the replacements too.
  if (typeof Module.syncBuiltinESMExports === 'function') Module.syncBuiltinESMExports();
}

install();
