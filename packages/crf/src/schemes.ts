import { CrfError } from "./errors.js";

/**
 * Tagging schemes. `BIO` is IOB2 (every chunk starts with `B-`); `IOB1` starts a chunk with `I-` and
 * uses `B-` only to split two adjacent chunks of one type; `IOE1`/`IOE2` are their mirror images with
 * `E-` at chunk ends; `BIOES` (`IOBES`) and `BILOU` mark single-token chunks (`S-`/`U-`) and chunk ends
 * (`E-`/`L-`); `BMES` is BIOES without `O` (word segmentation). `IOB2` and `IOBES` are aliases.
 */
export type TagScheme = "IOB1" | "BIO" | "IOB2" | "IOE1" | "IOE2" | "BIOES" | "IOBES" | "BILOU" | "BMES";

/** Which transitions a constrained CRF may use: `transitions[from][to]`, and which tags may start or end. */
export interface TransitionConstraints {
  readonly transitions: readonly (readonly boolean[])[];
  readonly start: readonly boolean[];
  readonly end: readonly boolean[];
}

/** Canonical roles: B = begin, I = inside, E = end, S = single, O = outside. */
type Role = "B" | "I" | "E" | "S" | "O";

const PREFIXES: Record<TagScheme, Readonly<Record<string, Role>>> = {
  IOB1: { B: "B", I: "I" },
  BIO: { B: "B", I: "I" },
  IOB2: { B: "B", I: "I" },
  IOE1: { I: "I", E: "E" },
  IOE2: { I: "I", E: "E" },
  BIOES: { B: "B", I: "I", E: "E", S: "S" },
  IOBES: { B: "B", I: "I", E: "E", S: "S" },
  BILOU: { B: "B", I: "I", L: "E", U: "S" },
  BMES: { B: "B", M: "I", E: "E", S: "S" },
};

interface Parsed {
  readonly role: Role;
  readonly type: string;
}

function parseLabel(scheme: TagScheme, label: unknown, index: number): Parsed {
  const prefixes = PREFIXES[scheme];
  const expected =
    (scheme === "BMES" ? "" : "'O' or ") +
    `a label with prefix ${Object.keys(prefixes)
      .map((p) => `${p}-`)
      .join(", ")} (or the bare prefix) for scheme ${scheme}`;
  if (typeof label !== "string") {
    throw new CrfError("allowedTransitions", `labels[${index}]`, expected, typeof label);
  }
  if (label === "O" && scheme !== "BMES") return { role: "O", type: "" };
  const dash = label.indexOf("-");
  const prefix = dash < 0 ? label : label.slice(0, dash);
  const role = prefixes[prefix];
  if (role === undefined || (dash >= 0 && dash === label.length - 1)) {
    throw new CrfError("allowedTransitions", `labels[${index}]`, expected, JSON.stringify(label));
  }
  return { role, type: dash < 0 ? "" : label.slice(dash + 1) };
}

/** Mirror image of a transition rule: read the sentence backwards and swap B with E. */
const MIRROR: Record<Role, Role> = { B: "E", E: "B", I: "I", S: "S", O: "O" };

/** One scheme's rules on parsed labels; `null` stands for the sentence boundary. */
type Rule = (from: Parsed | null, to: Parsed | null) => boolean;

const same = (a: Parsed, b: Parsed): boolean => a.type === b.type;

/** IOB2: a chunk starts with B; I continues a chunk of its own type. */
const bio: Rule = (from, to) => {
  if (to === null) return true;
  if (to.role === "I") return from !== null && from.role !== "O" && same(from, to);
  return true;
};

/** IOB1: I may start a chunk; B only follows a chunk of its own type. */
const iob1: Rule = (from, to) => {
  if (to === null) return true;
  if (to.role === "B") return from !== null && from.role !== "O" && same(from, to);
  return true;
};

/** BIOES: B and I are followed by I or E of their type; E, S and O by O, B or S. */
const bioes: Rule = (from, to) => {
  const open = from !== null && (from.role === "B" || from.role === "I");
  if (open) return to !== null && (to.role === "I" || to.role === "E") && same(from, to);
  return to === null || to.role === "O" || to.role === "B" || to.role === "S";
};

const mirrored =
  (rule: Rule): Rule =>
  (from, to) =>
    rule(
      to === null ? null : { role: MIRROR[to.role], type: to.type },
      from === null ? null : { role: MIRROR[from.role], type: from.type },
    );

const RULES: Record<TagScheme, Rule> = {
  IOB1: iob1,
  BIO: bio,
  IOB2: bio,
  IOE1: mirrored(iob1),
  IOE2: mirrored(bio),
  BIOES: bioes,
  IOBES: bioes,
  BILOU: bioes,
  BMES: bioes,
};

/**
 * The transitions a tagging scheme allows between `labels` (indexed like the CRF's tags), for
 * `new LinearChainCrf({ allowed })`. With them, decoding never produces an invalid sequence (an
 * `I-PER` after `O` in BIO, say), and training normalises over valid sequences only.
 *
 * @throws CrfError for an unknown scheme or a label that does not fit it.
 */
export function allowedTransitions(scheme: TagScheme, labels: readonly string[]): TransitionConstraints {
  if (typeof scheme !== "string" || !Object.hasOwn(RULES, scheme)) {
    throw new CrfError(
      "allowedTransitions",
      "scheme",
      `one of ${Object.keys(RULES).join(", ")}`,
      JSON.stringify(scheme),
    );
  }
  if (!Array.isArray(labels) || labels.length === 0) {
    throw new CrfError("allowedTransitions", "labels", "a non-empty array of label strings", String(labels));
  }
  const rule = RULES[scheme];
  const parsed = labels.map((label, index) => parseLabel(scheme, label, index));
  return {
    transitions: parsed.map((from) => parsed.map((to) => rule(from, to))),
    start: parsed.map((to) => rule(null, to)),
    end: parsed.map((from) => rule(from, null)),
  };
}
