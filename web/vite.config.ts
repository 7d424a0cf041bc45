/// <reference types="vitest/config" />
// The console's build, dev server and component tests.
//
// `npm run dev` serves the console on http://127.0.0.1:5173 and forwards its gRPC-web calls
// (`/globalcredit.*`) to the gateway, GCC_GATEWAY_URL (default http://127.0.0.1:8080, Envoy in the dev
// stack), so the browser talks to one origin. It also answers `GET /dev/tokens` with the dev stack's
// development tokens (`python -m devstack token <role>`), so that the sign-in page offers the roles.
// Neither exists in the build: `npm run build` writes static files to dist/.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import react from "@vitejs/plugin-react";
import { defineConfig, type Connect, type Plugin, type ProxyOptions } from "vite";

const gateway = process.env.GCC_GATEWAY_URL ?? "http://127.0.0.1:8080";
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const python = path.join(repo, ".venv", "bin", "python");
const ROLES = ["analyst", "senior_analyst", "admin", "partner"];

// Every gRPC-web path is `/<proto package>.<Service>/<Method>`; all of ours live under `globalcredit.`.
const proxy: Record<string, ProxyOptions> = {
  "^/globalcredit\\.": {
    target: gateway,
    changeOrigin: true,
    // Node holds response headers back until the first body bytes; a watch sends its headers at once and
    // its first event maybe much later, and the console shows "Live" when the headers arrive.
    configure: (server) =>
      server.on("proxyRes", (_upstream, _request, response) => queueMicrotask(() => response.flushHeaders())),
  },
};

/** `GET /dev/tokens` on the dev and preview servers only: `{"analyst": "<jwt>", …}` from the dev stack. */
function developmentTokens(): Plugin {
  const run = promisify(execFile);
  const handler: Connect.NextHandleFunction = (request, response, next) => {
    if (request.method !== "GET" || !existsSync(python)) return next();
    Promise.all(
      ROLES.map(async (role) => {
        const { stdout } = await run(python, ["-m", "devstack", "token", role], { cwd: repo, timeout: 30_000 });
        return [role, stdout.trim()] as const;
      }),
    ).then(
      (pairs) => {
        response.setHeader("content-type", "application/json");
        response.setHeader("cache-control", "no-store");
        response.end(JSON.stringify(Object.fromEntries(pairs)));
      },
      () => next(),
    );
  };
  return {
    name: "gcc-development-tokens",
    configureServer: (server) => void server.middlewares.use("/dev/tokens", handler),
    configurePreviewServer: (server) => void server.middlewares.use("/dev/tokens", handler),
  };
}

export default defineConfig({
  plugins: [react(), developmentTokens()],
  // Relative asset URLs: the built console works wherever it is mounted (routes live in the hash).
  base: "./",
  server: { host: "127.0.0.1", port: 5173, strictPort: true, proxy },
  preview: { host: "127.0.0.1", port: 4173, proxy },
  build: { outDir: "dist", sourcemap: true },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
  },
});
