import { DataError, show } from "./errors.js";

/** ISO 15924 script codes of the bundled languages. */
export type Script = "Latn";

/** A language the bundled corpora cover, with where it sits in the family tree. */
export interface LanguageInfo {
  /** ISO 639-1 code, where the language has one (Upper Sorbian has none). */
  iso639_1?: string;
  /** ISO 639-3 code. */
  iso639_3: string;
  /** Glottolog languoid code. */
  glottocode: string;
  name: string;
  script: Script;
  /** Top-level family (Glottolog). */
  family: string;
  /** WALS-style genus. */
  genus: string;
  /** Path from the family down to the language's closest subgroup, Glottolog-style (family first). */
  lineage: readonly string[];
}

/** A suggested source language for cross-lingual transfer into a target. */
export interface SourceSuggestion {
  /** ISO 639-1 code where there is one, else ISO 639-3. */
  language: string;
  name: string;
  /** Why it is a good source. */
  reason: string;
  /** Bundled corpora in that language (empty when none is bundled). */
  corpora: readonly string[];
}

/** A node of the language tree: a subgroup with children, or a leaf naming a language code. */
export interface LanguageTreeNode {
  name: string;
  /** Set on leaves: the language's primary code (ISO 639-1 where there is one, else 639-3). */
  language?: string;
  children: LanguageTreeNode[];
}

const GERMANIC = ["Indo-European", "Germanic"];
const SLAVIC = ["Indo-European", "Balto-Slavic", "Slavic", "West Slavic"];

const LANGUAGES: readonly LanguageInfo[] = [
  {
    iso639_1: "fo",
    iso639_3: "fao",
    glottocode: "faro1244",
    name: "Faroese",
    script: "Latn",
    family: "Indo-European",
    genus: "Germanic",
    lineage: [...GERMANIC, "North Germanic", "West Scandinavian"],
  },
  {
    iso639_1: "is",
    iso639_3: "isl",
    glottocode: "icel1247",
    name: "Icelandic",
    script: "Latn",
    family: "Indo-European",
    genus: "Germanic",
    lineage: [...GERMANIC, "North Germanic", "West Scandinavian"],
  },
  {
    iso639_1: "nb",
    iso639_3: "nob",
    glottocode: "norw1259",
    name: "Norwegian Bokmål",
    script: "Latn",
    family: "Indo-European",
    genus: "Germanic",
    lineage: [...GERMANIC, "North Germanic", "West Scandinavian"],
  },
  {
    iso639_1: "da",
    iso639_3: "dan",
    glottocode: "dani1285",
    name: "Danish",
    script: "Latn",
    family: "Indo-European",
    genus: "Germanic",
    lineage: [...GERMANIC, "North Germanic", "East Scandinavian"],
  },
  {
    iso639_1: "sv",
    iso639_3: "swe",
    glottocode: "swed1254",
    name: "Swedish",
    script: "Latn",
    family: "Indo-European",
    genus: "Germanic",
    lineage: [...GERMANIC, "North Germanic", "East Scandinavian"],
  },
  {
    iso639_1: "en",
    iso639_3: "eng",
    glottocode: "stan1293",
    name: "English",
    script: "Latn",
    family: "Indo-European",
    genus: "Germanic",
    lineage: [...GERMANIC, "West Germanic", "Anglo-Frisian"],
  },
  {
    iso639_1: "cs",
    iso639_3: "ces",
    glottocode: "czec1258",
    name: "Czech",
    script: "Latn",
    family: "Indo-European",
    genus: "Slavic",
    lineage: [...SLAVIC, "Czech-Slovak"],
  },
  {
    iso639_1: "sk",
    iso639_3: "slk",
    glottocode: "slov1269",
    name: "Slovak",
    script: "Latn",
    family: "Indo-European",
    genus: "Slavic",
    lineage: [...SLAVIC, "Czech-Slovak"],
  },
  {
    iso639_3: "hsb",
    glottocode: "uppe1395",
    name: "Upper Sorbian",
    script: "Latn",
    family: "Indo-European",
    genus: "Slavic",
    lineage: [...SLAVIC, "Sorbian"],
  },
  {
    iso639_1: "mt",
    iso639_3: "mlt",
    glottocode: "malt1254",
    name: "Maltese",
    script: "Latn",
    family: "Afro-Asiatic",
    genus: "Semitic",
    lineage: ["Afro-Asiatic", "Semitic", "West Semitic", "Central Semitic", "Arabic"],
  },
];

const SUGGESTED: Readonly<Record<string, readonly SourceSuggestion[]>> = {
  fo: [
    {
      language: "is",
      name: "Icelandic",
      reason: "closest relative (West Scandinavian)",
      corpora: ["ud/is_modern"],
    },
    {
      language: "da",
      name: "Danish",
      reason: "North Germanic; long contact with Faroese; NER data",
      corpora: ["ud/da_ddt", "uner/da_ddt"],
    },
    { language: "sv", name: "Swedish", reason: "North Germanic; NER data", corpora: ["uner/sv_talbanken"] },
    { language: "nb", name: "Norwegian Bokmål", reason: "North Germanic", corpora: [] },
  ],
  hsb: [
    { language: "cs", name: "Czech", reason: "West Slavic, closest large neighbour", corpora: ["ud/cs_cac"] },
    {
      language: "sk",
      name: "Slovak",
      reason: "West Slavic; NER data",
      corpora: ["ud/sk_snk", "uner/sk_snk"],
    },
  ],
  mt: [
    { language: "ar", name: "Arabic", reason: "Semitic core of the grammar (different script)", corpora: [] },
    { language: "it", name: "Italian", reason: "large Romance share of the lexicon", corpora: [] },
    { language: "en", name: "English", reason: "lexical borrowing and code-switching", corpora: [] },
  ],
};

function primaryCode(info: LanguageInfo): string {
  return info.iso639_1 ?? info.iso639_3;
}

/** Every language with metadata, in a fixed order. */
export function listLanguages(): LanguageInfo[] {
  return LANGUAGES.map((info) => ({ ...info }));
}

/** Metadata of a language by ISO 639-1 or 639-3 code (`fo` or `fao`). */
export function languageInfo(code: string): LanguageInfo {
  const info = LANGUAGES.find((l) => l.iso639_1 === code || l.iso639_3 === code);
  if (info === undefined) {
    const known = LANGUAGES.map(primaryCode).join(", ");
    throw new DataError(
      "languageInfo",
      "code",
      `an ISO 639-1 or 639-3 code of a known language (${known})`,
      show(code),
    );
  }
  return { ...info };
}

/** Source languages suggested for transfer into `target` (ISO 639-1 or 639-3), best first. */
export function suggestedSources(target: string): SourceSuggestion[] {
  const code = primaryCode(languageInfo(target));
  const suggestions = SUGGESTED[code];
  if (suggestions === undefined) {
    throw new DataError(
      "suggestedSources",
      "target",
      `a target language with suggestions (${Object.keys(SUGGESTED).join(", ")})`,
      show(target),
    );
  }
  return suggestions.map((s) => ({ ...s, corpora: [...s.corpora] }));
}

/**
 * The family tree of the known languages: roots are families, inner nodes subgroups (in `lineage`
 * order), leaves the languages. Drives hierarchical training (family → branch → group → language).
 */
export function languageTree(): LanguageTreeNode[] {
  const roots: LanguageTreeNode[] = [];
  for (const info of LANGUAGES) {
    let level = roots;
    for (const name of info.lineage) {
      let node = level.find((n) => n.name === name && n.language === undefined);
      if (node === undefined) {
        node = { name, children: [] };
        level.push(node);
      }
      level = node.children;
    }
    level.push({ name: info.name, language: primaryCode(info), children: [] });
  }
  return roots;
}

/** Number of tree edges between two languages (0 for the same language): a crude relatedness measure. */
export function treeDistance(a: string, b: string): number {
  const left = [...languageInfo(a).lineage, primaryCode(languageInfo(a))];
  const right = [...languageInfo(b).lineage, primaryCode(languageInfo(b))];
  let shared = 0;
  while (shared < left.length && shared < right.length && left[shared] === right[shared]) shared += 1;
  if (shared === 0) return Number.POSITIVE_INFINITY;
  return left.length - shared + (right.length - shared);
}
