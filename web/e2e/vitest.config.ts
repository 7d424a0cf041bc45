// Browser end-to-end tests against the real dev stack (`npm run e2e`): Chromium driven by playwright-core.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    globalSetup: ["e2e/stack.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // One stack, one story: the scenarios build on each other in order.
    sequence: { concurrent: false, shuffle: false },
  },
});
