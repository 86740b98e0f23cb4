import { readFile, writeFile } from "node:fs/promises";
import { DataError, show } from "./errors.js";

/** The JSON form of a {@link LabelVocabulary}, saved beside a model. */
export interface LabelVocabularyJson {
  labels: string[];
}

const PREFIXED = /^([BIESLU])-(.+)$/;

/** Sort key: `O` first, then by entity type, then by prefix in B, I, E, S, L, U order; plain tags alphabetically. */
function compareLabels(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "O") return -1;
  if (b === "O") return 1;
  const pa = PREFIXED.exec(a);
  const pb = PREFIXED.exec(b);
  const typeA = pa?.[2] ?? a;
  const typeB = pb?.[2] ?? b;
  if (typeA !== typeB) return typeA < typeB ? -1 : 1;
  const order = "BIESLU";
  return order.indexOf(pa?.[1] ?? "") - order.indexOf(pb?.[1] ?? "");
}

/**
 * A label vocabulary with stable ids: the same label set always gives the same ids (sorted, `O` is 0),
 * whatever order the labels were seen in. Save it with the model (`toJSON`/`save`).
 */
export class LabelVocabulary {
  readonly labels: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  constructor(labels: readonly string[]) {
    const seen = new Set<string>();
    labels.forEach((label, i) => {
      if (typeof label !== "string" || label === "") {
        throw new DataError("LabelVocabulary", `labels[${i}]`, "a non-empty string", show(label));
      }
      if (seen.has(label))
        throw new DataError("LabelVocabulary", `labels[${i}]`, "distinct labels", `${show(label)} twice`);
      seen.add(label);
    });
    this.labels = [...labels];
    this.ids = new Map(labels.map((label, id) => [label, id]));
  }

  /** The vocabulary of every tag in `sentences`, in the stable order. */
  static fromTags(sentences: Iterable<readonly string[]>): LabelVocabulary {
    const all = new Set<string>();
    for (const tags of sentences) for (const tag of tags) all.add(tag);
    return new LabelVocabulary([...all].sort(compareLabels));
  }

  /** For NER: `O` plus every prefix of `scheme` for each entity type, in the stable order. */
  static forEntityTypes(types: readonly string[], prefixes: readonly string[] = ["B", "I"]): LabelVocabulary {
    const labels = ["O", ...types.flatMap((type) => prefixes.map((p) => `${p}-${type}`))];
    return new LabelVocabulary(labels.sort(compareLabels));
  }

  static fromJSON(json: LabelVocabularyJson): LabelVocabulary {
    if (!Array.isArray(json?.labels)) {
      throw new DataError(
        "LabelVocabulary.fromJSON",
        "json.labels",
        "an array of labels",
        show(json?.labels),
      );
    }
    return new LabelVocabulary(json.labels);
  }

  static async load(path: string): Promise<LabelVocabulary> {
    return LabelVocabulary.fromJSON(JSON.parse(await readFile(path, "utf8")));
  }

  get size(): number {
    return this.labels.length;
  }

  has(label: string): boolean {
    return this.ids.has(label);
  }

  /** The id of a label; an unknown label is an error naming the known ones. */
  id(label: string): number {
    const id = this.ids.get(label);
    if (id === undefined) {
      throw new DataError("LabelVocabulary.id", "label", `one of ${this.labels.join(", ")}`, show(label));
    }
    return id;
  }

  /** The label of an id. */
  label(id: number): string {
    const label = this.labels[id];
    if (!Number.isInteger(id) || label === undefined) {
      throw new DataError(
        "LabelVocabulary.label",
        "id",
        `an integer in [0, ${this.labels.length})`,
        show(id),
      );
    }
    return label;
  }

  encode(tags: readonly string[]): number[] {
    return tags.map((tag) => this.id(tag));
  }

  decode(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.label(id));
  }

  toJSON(): LabelVocabularyJson {
    return { labels: [...this.labels] };
  }

  async save(path: string): Promise<void> {
    await writeFile(path, `${JSON.stringify(this.toJSON(), null, 2)}\n`, "utf8");
  }
}
