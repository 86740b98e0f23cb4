import { defineConfig } from "vitest/config";

// Property tests and child-process tests run sessions on a shared 2-core machine: allow them time.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
