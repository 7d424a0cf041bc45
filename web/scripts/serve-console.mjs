#!/usr/bin/env node
// Serves the built console (web/dist) for development and the browser tests; no dependencies.
//
//   node web/scripts/serve-console.mjs --port 5173 --gateway http://127.0.0.1:8080 \
//     [--dir web/dist] [--host 127.0.0.1] [--proxy] [--tokens-command ".venv/bin/python -m devstack token"]
//
// - GET /config.json   {"gatewayUrl": …}: where the console sends its gRPC-web calls. With --proxy the
//                      console calls its own origin and this server forwards `/globalcredit.*` to the
//                      gateway (streams included); without, the gateway must allow this origin by CORS.
// - GET /dev/tokens    development only, and only with --tokens-command: {"<role>": "<jwt>", …}, each
//                      token printed by `<command> <role>`. Never serve this in production.
// - anything else      a file of --dir (index.html for `/`).
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";

const run = promisify(execFile);
const ROLES = ["analyst", "senior_analyst", "admin", "partner"];
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

export function createConsoleServer({ dir, gateway, proxy = false, tokensCommand = null, cwd = process.cwd() }) {
  const root = path.resolve(dir);
  let tokens = null;

  async function developmentTokens() {
    if (tokens && tokens.expires > Date.now()) return tokens.value;
    const [command, ...args] = tokensCommand.split(/\s+/).filter(Boolean);
    const value = {};
    for (const role of ROLES) {
      const { stdout } = await run(command, [...args, role], { cwd, env: process.env, timeout: 30_000 });
      value[role] = stdout.trim();
    }
    // Development tokens live 12 hours; hand out fresh ones well before.
    tokens = { value, expires: Date.now() + 10 * 60_000 };
    return value;
  }

  function forward(request, response) {
    const target = new URL(request.url, gateway);
    const upstream = http.request(
      target,
      { method: request.method, headers: { ...request.headers, host: target.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        response.flushHeaders();
        answer.pipe(response); // streamed as it comes: a watch never ends on its own
      },
    );
    upstream.on("error", (error) => {
      console.error(`gateway ${target.href}: ${error.message}`);
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end("gateway unreachable");
    });
    // The browser went away (a watch closed): stop the call upstream too.
    response.on("close", () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  }

  async function sendFile(response, file) {
    const body = await readFile(file);
    const type = TYPES[path.extname(file)] ?? "application/octet-stream";
    const cache = file.endsWith("index.html") ? "no-store" : "public, max-age=3600";
    response.writeHead(200, { "content-type": type, "cache-control": cache });
    response.end(body);
  }

  return http.createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://console");
    try {
      if (proxy && url.pathname.startsWith("/globalcredit.")) return forward(request, response);
      if (url.pathname === "/config.json") {
        response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        return response.end(JSON.stringify({ gatewayUrl: proxy ? "" : gateway }));
      }
      if (url.pathname === "/dev/tokens") {
        if (!tokensCommand) {
          response.writeHead(404, { "content-type": "text/plain" });
          return response.end("no development identities here");
        }
        response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        return response.end(JSON.stringify(await developmentTokens()));
      }
      const relative = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname.slice(1));
      const file = path.resolve(root, relative);
      if (!file.startsWith(root + path.sep)) {
        response.writeHead(403);
        return response.end();
      }
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) {
        response.writeHead(404, { "content-type": "text/plain" });
        return response.end("not found");
      }
      return await sendFile(response, file);
    } catch (error) {
      if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain" });
      response.end(String(error instanceof Error ? error.message : error));
    }
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      dir: { type: "string", default: path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist") },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "5173" },
      gateway: { type: "string", default: "http://127.0.0.1:8080" },
      proxy: { type: "boolean", default: false },
      "tokens-command": { type: "string" },
    },
  });
  const server = createConsoleServer({
    dir: values.dir,
    gateway: values.gateway,
    proxy: values.proxy,
    tokensCommand: values["tokens-command"] ?? null,
  });
  server.listen(Number(values.port), values.host, () => {
    console.log(`console on http://${values.host}:${values.port}/ (gateway ${values.gateway}${values.proxy ? ", proxied" : ""})`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
