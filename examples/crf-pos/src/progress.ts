/** The part of a writable stream a progress bar needs (`process.stderr` fits). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/**
 * A one-line progress bar redrawn in place with `\r` on a terminal; on anything else (a pipe, a
 * log file, CI) it draws nothing, so logs hold only the summary lines the caller prints.
 */
export class ProgressBar {
  readonly #stream: ProgressStream;
  readonly #width: number;
  #drawn = false;

  constructor(stream: ProgressStream, width = 30) {
    this.#stream = stream;
    this.#width = width;
  }

  /** Redraws the bar at `done / total` with a label in front and a note after it. */
  update(label: string, done: number, total: number, note = ""): void {
    if (!this.#stream.isTTY) return;
    const line = renderBar(label, done, total, this.#width, note);
    const columns = this.#stream.columns ?? 120;
    this.#stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
    this.#drawn = true;
  }

  /** Erases the bar so the next line starts clean. */
  clear(): void {
    if (!this.#drawn) return;
    const columns = this.#stream.columns ?? 120;
    this.#stream.write(`\r${" ".repeat(columns - 1)}\r`);
    this.#drawn = false;
  }
}

/** `label [#####.....]  12/40 note`. */
export function renderBar(label: string, done: number, total: number, width: number, note = ""): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(fraction * width);
  const count = `${String(done).padStart(String(total).length)}/${total}`;
  return `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${count}${note ? ` ${note}` : ""}`;
}
