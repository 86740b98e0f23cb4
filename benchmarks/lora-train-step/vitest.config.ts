import { defineConfig } from "vitest/config";

// Sessions on a shared 2-core machine: allow them time.
export default defineConfig({ test: { testTimeout: 120_000 } });
