import { once } from "node:events";
import { createWriteStream } from "node:fs";

/**
 * Writes blocks to a file as they come (an array, a generator or an async generator), formatting each
 * with `format`; resolves with the number of blocks written once the file is flushed.
 */
export async function writeBlocks<T>(
  path: string,
  blocks: Iterable<T> | AsyncIterable<T>,
  format: (block: T) => string,
): Promise<number> {
  const out = createWriteStream(path, { encoding: "utf8" });
  const failed = once(out, "error");
  let count = 0;
  try {
    for await (const block of blocks) {
      if (!out.write(format(block))) await Promise.race([once(out, "drain"), failed]);
      count += 1;
    }
  } finally {
    out.end();
  }
  await Promise.race([once(out, "finish"), failed]);
  return count;
}
