import { defineConfig } from "vitest/config";

// End-to-end and child-process tests train small models on a shared 2-core machine: allow them time.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
