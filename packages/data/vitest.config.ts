import { defineConfig } from "vitest/config";

// The parity tests run the Rust binding and whole treebanks; a shared 2-core machine can take a while.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
