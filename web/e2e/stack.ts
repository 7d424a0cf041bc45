/**
 * Global setup of the browser tests: the real dev stack (`python -m devstack run`) on free ports with its
 * state in a temporary directory, and the built console served by `scripts/serve-console.mjs` on an
 * origin the gateway allows by CORS, with development identities at `/dev/tokens`. Everything started
 * here is stopped by PID at the end.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, chmodSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

const WEB = fileURLToPath(new URL("..", import.meta.url));
const REPO = path.resolve(WEB, "..");
const PYTHON = path.join(REPO, ".venv", "bin", "python");
const READY_LINE = "Global Credit Core is running.";
const START_TIMEOUT_MS = Number(process.env.E2E_START_TIMEOUT_MS ?? 240_000);

declare module "vitest" {
  export interface ProvidedContext {
    consoleUrl: string;
    gatewayUrl: string;
    runDir: string;
    screenshotsDir: string;
    chromium: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Every `GCC_*_PORT` the dev stack knows, from its own --help, so a new service is covered too. */
function portVariables(): string[] {
  const help = spawnSync(PYTHON, ["-m", "devstack", "run", "--help"], { cwd: REPO, encoding: "utf8" });
  if (help.status !== 0) throw new Error(`python -m devstack run --help failed:\n${help.stderr}`);
  return [...new Set(help.stdout.match(/GCC_[A-Z_]+_PORT\b/g) ?? [])];
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stop(child: ChildProcess | null, signal: NodeJS.Signals, graceMs: number) {
  if (!child?.pid || child.exitCode !== null) return;
  child.kill(signal);
  if (!(await waitForExit(child, graceMs))) {
    child.kill("SIGKILL");
    await waitForExit(child, 5_000);
  }
}

export default async function setup(project: TestProject) {
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  const missing: string[] = [];
  if (!existsSync(path.join(WEB, "dist", "index.html"))) missing.push("the built console (run `npm run build` in web/)");
  if (!existsSync(PYTHON)) missing.push("the Python environment (.venv: run `make install`)");
  if (!existsSync(chromium)) missing.push(`Chromium at ${chromium} (apt-get install -y chromium)`);
  if (missing.length) throw new Error(`cannot run the browser tests; missing: ${missing.join("; ")}`);

  const variables = portVariables();
  for (const needed of ["GCC_GATEWAY_PORT", "GCC_NOTIFIER_PORT"]) {
    if (!variables.includes(needed)) {
      throw new Error(`the dev stack does not run ${needed.includes("GATEWAY") ? "the gateway (Envoy)" : "notifier"} yet (no ${needed})`);
    }
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: "1" };
  for (const variable of variables) env[variable] = String(await freePort());
  const consolePort = env.GCC_CONSOLE_PORT ?? String(await freePort());
  env.GCC_CONSOLE_PORT = consolePort;
  const consoleUrl = `http://127.0.0.1:${consolePort}`;
  env.GCC_GATEWAY_CORS_ORIGINS = consoleUrl;
  const gatewayUrl = `http://127.0.0.1:${env.GCC_GATEWAY_PORT}`;

  // World-traversable, so that PostgreSQL (run as the postgres user when we are root) can use it.
  const runDir = mkdtempSync(path.join(os.tmpdir(), "gcc-e2e-"));
  chmodSync(runDir, 0o755);
  env.GCC_RUN_DIR = runDir;
  const logFile = path.join(runDir, "devstack.out");
  const log = createWriteStream(logFile);

  let stack: ChildProcess | null = null;
  let consoleServer: ChildProcess | null = null;
  const teardown = async () => {
    await stop(consoleServer, "SIGTERM", 5_000);
    // The dev stack stops everything it started, in order, on SIGINT (as on Ctrl-C).
    await stop(stack, "SIGINT", 60_000);
    log.end();
    if (!process.env.E2E_KEEP_RUN_DIR) rmSync(runDir, { recursive: true, force: true });
    else console.log(`e2e: dev stack state kept in ${runDir}`);
  };

  try {
    stack = spawn(PYTHON, ["-m", "devstack", "run"], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(
        () => reject(new Error(`the dev stack did not start within ${START_TIMEOUT_MS / 1000} s:\n${output.slice(-4000)}`)),
        START_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer) => {
        log.write(chunk);
        output += chunk.toString();
        if (output.includes(READY_LINE)) {
          clearTimeout(timer);
          resolve();
        }
      };
      stack!.stdout!.on("data", onData);
      stack!.stderr!.on("data", onData);
      stack!.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the dev stack exited (${code}) before it was up:\n${output.slice(-4000)}`));
      });
    });

    consoleServer = spawn(
      process.execPath,
      [
        path.join(WEB, "scripts", "serve-console.mjs"),
        "--dir", path.join(WEB, "dist"),
        "--port", consolePort,
        "--gateway", gatewayUrl,
        "--tokens-command", `${PYTHON} -m devstack token`,
      ],
      { cwd: REPO, env, stdio: ["ignore", "inherit", "inherit"] },
    );
    await waitForHttp(`${consoleUrl}/config.json`, 15_000);
  } catch (error) {
    const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "";
    await teardown();
    throw error instanceof Error && tail && !error.message.includes(tail.slice(-200)) ? new Error(`${error.message}\n${tail}`) : error;
  }

  project.provide("consoleUrl", consoleUrl);
  project.provide("gatewayUrl", gatewayUrl);
  project.provide("runDir", runDir);
  project.provide("screenshotsDir", path.join(REPO, "docs", "screenshots"));
  project.provide("chromium", chromium);
  return teardown;
}

async function waitForHttp(url: string, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within ${ms / 1000} s`);
}
