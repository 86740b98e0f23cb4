/** A GitHub-flavoured markdown table; numeric-looking columns are right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const numeric = header.map((_, column) =>
    rows.every((row) => /^[-—\d.,×\s]|^n\/a$/.test(row[column] ?? "")),
  );
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join(" | ")} |`;
  const rule = `| ${widths.map((width, column) => (numeric[column] ? `${"-".repeat(width - 1)}:` : "-".repeat(width))).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/** A throughput with three significant digits and a thousands separator: 12,300 or 45.6. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1000) return Math.round(Number(perSecond.toPrecision(3))).toLocaleString("en-US");
  return perSecond.toPrecision(3);
}
