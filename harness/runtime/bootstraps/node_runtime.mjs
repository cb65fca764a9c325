// Node.js runtime for msk-harness: loads _HANDLER from LAMBDA_TASK_ROOT and runs the Lambda Runtime API loop.
//
// Supports CommonJS (.js/.cjs) and ES modules (.mjs, or .js under "type": "module"), async handlers and
// callback handlers (three parameters). Errors are reported in the Node runtime's shape:
// {errorType, errorMessage, trace: [lines]}.
// Known deviations from AWS: callbackWaitsForEmptyEventLoop is accepted but the response is sent as soon as the
// handler settles; console lines get the AWS text prefix (time, request id, level) but no JSON log format.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const [HOST, PORT] = API.split(":");
const BASE = "/2018-06-01/runtime";
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let currentRequestId = undefined;

function request(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const req = http.request(
      {
        host: HOST,
        port: Number(PORT),
        path: BASE + urlPath,
        method,
        agent,
        headers: { ...(headers || {}), ...(data ? { "Content-Length": data.length } : {}) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [name, level] of Object.entries(levels)) {
    console[name] = (...args) => {
      const text = util.format(...args).replace(/\n/g, "\r");
      process.stdout.write(`${new Date().toISOString()}\t${currentRequestId ?? "undefined"}\t${level}\t${text}\n`);
    };
  }
}

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(typeof err === "string" ? err : util.inspect(err));
  const errorType = err instanceof Error ? e.name || "Error" : "Error";
  return {
    errorType,
    errorMessage: e.message,
    trace: String(e.stack || "").split("\n"),
  };
}

class HandlerNotFound extends Error {
  constructor(message) {
    super(message);
    this.name = "Runtime.HandlerNotFound";
  }
}

class ImportModuleError extends Error {
  constructor(message) {
    super(message);
    this.name = "Runtime.ImportModuleError";
  }
}

// Init failures as AWS's Node.js runtime classifies them: syntax errors and missing modules get Runtime.* types,
// anything else thrown while loading keeps its own type (an import-time exception).
function initErrorBody(err) {
  const body = errorBody(err);
  if (String(body.errorType).startsWith("Runtime.")) return body;
  if (err instanceof SyntaxError) {
    body.errorType = "Runtime.UserCodeSyntaxError";
    body.errorMessage = `SyntaxError: ${err.message}`;
  } else if (err && (err.code === "MODULE_NOT_FOUND" || err.code === "ERR_MODULE_NOT_FOUND")) {
    body.errorType = "Runtime.ImportModuleError";
    body.errorMessage = `Error: ${err.message}`;
  }
  return body;
}

function isEsm(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  // .js follows the nearest package.json "type".
  let dir = path.dirname(file);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

async function loadHandler(spec) {
  const slash = spec.lastIndexOf("/");
  const dirPart = slash >= 0 ? spec.slice(0, slash + 1) : "";
  const rest = slash >= 0 ? spec.slice(slash + 1) : spec;
  const dot = rest.indexOf(".");
  if (dot < 0) throw new HandlerNotFound(`Bad handler ${spec}`);
  const base = path.resolve(TASK_ROOT, dirPart + rest.slice(0, dot));
  const member = rest.slice(dot + 1);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) throw new ImportModuleError(`Error: Cannot find module '${path.basename(base)}'`);
  let mod;
  if (isEsm(file)) {
    mod = await import(pathToFileURL(file).href);
  } else {
    mod = createRequire(path.join(TASK_ROOT, "noop.js"))(file);
  }
  let fn = mod;
  for (const part of member.split(".")) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod && mod.default) {
    fn = mod.default;
    for (const part of member.split(".")) fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== "function") throw new HandlerNotFound(`${rest} is undefined or not exported`);
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    context.done = callback;
    context.succeed = (result) => callback(null, result);
    context.fail = (err) => callback(err ?? new Error("handled"));
    try {
      const out = handler(event, context, callback);
      if (handler.length < 3 || (out && typeof out.then === "function")) {
        Promise.resolve(out).then(
          (v) => callback(null, v),
          (e) => callback(e ?? new Error("rejected")),
        );
      }
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || "");
  } catch (err) {
    const body = initErrorBody(err);
    console.error(JSON.stringify(body));
    await request("POST", "/init/error", JSON.stringify(body), {
      "Content-Type": "application/json",
      "Lambda-Runtime-Function-Error-Type": body.errorType,
    });
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", "/invocation/next");
    if (next.status !== 200) {
      console.error(`GET /invocation/next returned ${next.status}: ${next.body}`);
      process.exit(1);
    }
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    const context = makeContext(next.headers);
    let event;
    try {
      event = JSON.parse(next.body.toString("utf8"));
    } catch (err) {
      event = next.body.toString("utf8");
    }
    try {
      const result = await runHandler(handler, event, context);
      const body = JSON.stringify(result === undefined ? null : result);
      const res = await request("POST", `/invocation/${requestId}/response`, body, {
        "Content-Type": "application/json",
      });
      if (res.status !== 202) console.error(`response rejected with ${res.status}: ${res.body}`);
    } catch (err) {
      const body = errorBody(err);
      console.error(`Invoke Error \t${JSON.stringify(body)}`);
      await request("POST", `/invocation/${requestId}/error`, JSON.stringify(body), {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": "Unhandled",
      });
    }
  }
}

process.on("SIGTERM", () => process.exit(0));
main().catch((err) => {
  process.stderr.write(`runtime failure: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
