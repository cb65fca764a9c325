// msk-harness: inside a function environment, AWS host names resolve to the harness's HTTPS front.
//
// Preloaded with `node --require` (NODE_OPTIONS) before the runtime bootstrap and the handler, so it covers
// CommonJS and ES module handlers alike. It acts only when MSK_HARNESS_AWS_FRONT ("127.0.0.1:PORT") is set:
// connections to hosts ending in MSK_HARNESS_AWS_SUFFIXES on port 443 go to the front (TLS still verifies the
// AWS name, against the harness CA given in NODE_EXTRA_CA_CERTS), port 80 to its plain listener
// (MSK_HARNESS_AWS_FRONT_HTTP); other ports go to a closed local port, so nothing reaches AWS. dns.lookup answers a sentinel loopback address that connect maps the same way.
"use strict";

const FRONT = process.env.MSK_HARNESS_AWS_FRONT || "";
const FRONT_HTTP = process.env.MSK_HARNESS_AWS_FRONT_HTTP || "";
const SUFFIXES = (process.env.MSK_HARNESS_AWS_SUFFIXES || "").split(",").filter(Boolean);
const SENTINEL = "127.0.0.253";

if (FRONT && SUFFIXES.length) {
  const net = require("node:net");
  const dns = require("node:dns");
  const sep = FRONT.lastIndexOf(":");
  const frontHost = FRONT.slice(0, sep);
  const frontPort = Number(FRONT.slice(sep + 1));

  const intercepted = (host) => {
    if (typeof host !== "string") return false;
    const name = host.replace(/\.$/, "").toLowerCase();
    return SUFFIXES.some((suffix) => name.endsWith(suffix));
  };
  const httpPort = FRONT_HTTP ? Number(FRONT_HTTP.slice(FRONT_HTTP.lastIndexOf(":") + 1)) : null;
  // 443 -> the HTTPS front, 80 -> its plain listener, anything else -> that port on loopback (closed).
  const target = (host, port) => {
    if (!(intercepted(host) || host === SENTINEL)) return null;
    const wanted = port === undefined ? 443 : Number(port);
    if (wanted === 443) return { host: frontHost, port: frontPort };
    if (wanted === 80 && httpPort) return { host: frontHost, port: httpPort };
    return { host: frontHost, port: wanted };
  };

  const realConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(...args) {
    // Forms: (options[, cb]), (port[, host][, cb]), (path[, cb]), and node's internal normalized [options, cb].
    const first = args[0];
    if (Array.isArray(first) && first.length && first[0] && typeof first[0] === "object") {
      const moved = target(first[0].host, first[0].port);
      if (moved) {
        const copy = [{ ...first[0], ...moved }, ...first.slice(1)];
        for (const sym of Object.getOwnPropertySymbols(first)) copy[sym] = first[sym];
        args[0] = copy;
      }
    } else if (first && typeof first === "object") {
      const moved = target(first.host, first.port);
      if (moved) args[0] = { ...first, ...moved };
    } else if ((typeof first === "number" || /^\d+$/.test(String(first))) && typeof args[1] === "string") {
      const moved = target(args[1], first);
      if (moved) {
        args[0] = moved.port;
        args[1] = moved.host;
      }
    }
    return realConnect.apply(this, args);
  };

  const realLookup = dns.lookup;
  dns.lookup = function lookup(hostname, options, callback) {
    if (!intercepted(hostname)) return realLookup.call(this, hostname, options, callback);
    const cb = typeof options === "function" ? options : callback;
    const all = options && typeof options === "object" && options.all;
    process.nextTick(() => (all ? cb(null, [{ address: SENTINEL, family: 4 }]) : cb(null, SENTINEL, 4)));
    return {};
  };
  const realPromiseLookup = dns.promises.lookup;
  dns.promises.lookup = async function lookup(hostname, options) {
    if (!intercepted(hostname)) return realPromiseLookup.call(this, hostname, options);
    const entry = { address: SENTINEL, family: 4 };
    return options && typeof options === "object" && options.all ? [entry] : entry;
  };
}
