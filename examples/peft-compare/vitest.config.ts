import { defineConfig } from "vitest/config";

// End-to-end tests train small models on a shared 2-core machine: allow them time.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
