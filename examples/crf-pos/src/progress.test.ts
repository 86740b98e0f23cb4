import { describe, expect, it } from "vitest";
import { ProgressBar, renderBar } from "./progress.js";

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, columns: 40, write: (text: string) => writes.push(text) };
}

describe("renderBar", () => {
  it("fills in proportion to progress", () => {
    expect(renderBar("epoch 1/3", 3, 12, 8, "loss 1.0")).toBe("epoch 1/3 [##......]  3/12 loss 1.0");
    expect(renderBar("x", 12, 12, 4)).toBe("x [####] 12/12");
    expect(renderBar("x", 0, 0, 4)).toBe("x [####] 0/0");
  });
});

describe("ProgressBar", () => {
  it("redraws in place on a terminal and clears itself", () => {
    const out = stream(true);
    const bar = new ProgressBar(out, 4);
    bar.update("e", 1, 2);
    bar.clear();
    expect(out.writes).toEqual([`\r${"e [##..] 1/2".padEnd(39)}`, `\r${" ".repeat(39)}\r`]);
  });

  it("writes nothing when the stream is not a terminal", () => {
    const out = stream(false);
    const bar = new ProgressBar(out);
    bar.update("e", 1, 2);
    bar.clear();
    expect(out.writes).toEqual([]);
  });
});
