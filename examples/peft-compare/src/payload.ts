import { CompareError } from "./errors.js";
import { checkJob, type Job } from "./plan.js";

/**
 * What a child process runs (`childProcessRunner` → `dist/job.js`): the parent's command line and
 * default output directory (the child parses them as the parent did), the job and the checkpoint.
 */
export interface JobPayload {
  readonly argv: readonly string[];
  readonly defaultOut: string;
  readonly job: Job;
  readonly checkpoint: string;
}

const FN = "parsePayload";

/** Reads a payload from its JSON text (the child's first argument); anything else is a `CompareError`. */
export function parsePayload(text: string | undefined): JobPayload {
  if (text === undefined) throw new CompareError(FN, "text", "a JSON payload", "nothing");
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new CompareError(FN, "text", "a JSON payload", JSON.stringify(text.slice(0, 60)));
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    throw new CompareError(FN, "payload", "a JSON object", JSON.stringify(payload));
  const { argv, defaultOut, job, checkpoint } = payload as Record<string, unknown>;
  if (!Array.isArray(argv) || !argv.every((arg) => typeof arg === "string"))
    throw new CompareError(FN, "payload.argv", "a list of strings", JSON.stringify(argv));
  if (typeof defaultOut !== "string")
    throw new CompareError(FN, "payload.defaultOut", "a directory", JSON.stringify(defaultOut));
  if (typeof checkpoint !== "string")
    throw new CompareError(FN, "payload.checkpoint", "a directory", JSON.stringify(checkpoint));
  return { argv, defaultOut, job: checkJob(job, "payload.job", FN), checkpoint };
}
