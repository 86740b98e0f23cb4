import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  corpusFile,
  corpusInfo,
  listCorpora,
  loadCorpus,
  loadParallel,
  pairLines,
  type Split,
} from "./registry.js";

const NAMES = [
  "ud/mt_mudt",
  "ud/fo_farpahc",
  "ud/hsb_ufal",
  "ud/cs_cac",
  "ud/sk_snk",
  "ud/da_ddt",
  "ud/is_modern",
  "uner/da_ddt",
  "uner/sk_snk",
  "uner/sv_talbanken",
  "tatoeba/hsb",
  "tatoeba/fao",
];

describe("the corpus registry", () => {
  it("lists every bundled corpus", () => {
    expect(listCorpora().map((c) => c.name)).toEqual(NAMES);
    expect(listCorpora({ language: "fo" }).map((c) => c.name)).toEqual(["ud/fo_farpahc", "tatoeba/fao"]);
    expect(listCorpora({ language: "fao", task: "parallel" }).map((c) => c.name)).toEqual(["tatoeba/fao"]);
    expect(listCorpora({ task: "ner" }).map((c) => c.name)).toEqual([
      "uner/da_ddt",
      "uner/sk_snk",
      "uner/sv_talbanken",
    ]);
    expect(listCorpora({ dataset: "tatoeba", language: "cs" })).toEqual([]);
  });

  it("ships every split with its license and attribution files beside it", () => {
    for (const info of listCorpora()) {
      for (const split of Object.keys(info.splits))
        expect(existsSync(corpusFile(info.name, split as Split))).toBe(true);
      const dataset = `${info.directory}/..`;
      expect(existsSync(`${dataset}/SOURCE.md`)).toBe(true);
      if (info.dataset === "ud") {
        expect(readFileSync(`${info.directory}/LICENSE.txt`, "utf8")).toMatch(/Attribution-ShareAlike 4\.0/);
        expect(existsSync(`${info.directory}/UD_README.md`)).toBe(true);
      } else if (info.dataset === "uner") {
        expect(readFileSync(`${info.directory}/LICENSE.txt`, "utf8")).toMatch(/ShareAlike/);
        expect(existsSync(`${info.directory}/UNER_README.md`)).toBe(true);
      } else {
        const license = readFileSync(`${dataset}/LICENSE.txt`, "utf8");
        expect(license).toMatch(/Creative Commons Attribution 2\.0 France \(CC BY 2\.0 FR\)/);
        expect(license).toContain("https://creativecommons.org/licenses/by/2.0/fr/");
        expect(license).toContain("Tatoeba (https://tatoeba.org) and its contributors");
        expect(readFileSync(`${dataset}/SOURCE.md`, "utf8")).toMatch(/CC BY 2\.0 FR/);
      }
    }
  });

  it.each(["ud", "uner", "tatoeba"] as const)(
    "%s/SOURCE.md describes exactly the bundled folders and their splits",
    (dataset) => {
      const root = `${corpusInfo(`${dataset}/${dataset === "tatoeba" ? "hsb" : "da_ddt"}`).directory}/..`;
      const source = readFileSync(`${root}/SOURCE.md`, "utf8");
      const rows = new Map(
        [...source.matchAll(/^\| `([a-z_]+)` \|(.*)$/gm)].map((match) => [match[1] ?? "", match[2] ?? ""]),
      );
      const onDisk = readdirSync(root, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
      const registered = listCorpora({ dataset }).map((info) => info.name.slice(dataset.length + 1));
      expect([...rows.keys()].sort()).toEqual([...onDisk].sort());
      expect([...registered].sort()).toEqual([...onDisk].sort());
      for (const info of listCorpora({ dataset })) {
        const row = rows.get(info.name.slice(dataset.length + 1)) ?? "";
        for (const [split, size] of Object.entries(info.splits)) {
          if (dataset === "tatoeba") expect(row).toContain(`| ${size.sentences} | ${size.tokens} |`);
          else expect(row).toContain(`${split} ${size.sentences} / ${size.tokens}`);
        }
      }
      // every section that gives a folder's provenance is about a bundled folder
      for (const match of source.matchAll(/^### `([a-z_]+)`/gm)) expect(onDisk).toContain(match[1]);
    },
  );

  it("describes a corpus with its language", () => {
    const info = corpusInfo("ud/hsb_ufal");
    expect(info.language.iso639_3).toBe("hsb");
    expect(info.language.iso639_1).toBeUndefined();
    expect(info.task).toBe("pos");
    expect(info.splits).toEqual({ test: { sentences: 644, tokens: 11167 } });
    expect(info.tagSet).toHaveLength(17);
    expect(corpusInfo("uner/da_ddt").license).toBe("CC BY-SA 4.0");
  });

  it("names what exists when a name or split is unknown", async () => {
    expect(() => corpusInfo("ud/xx")).toThrow(
      `corpusInfo: name: expected a bundled corpus (${NAMES.join(", ")}), got "ud/xx"`,
    );
    await expect(loadCorpus("ud/hsb_ufal", "train")).rejects.toThrow(
      'loadCorpus: split: expected a split of ud/hsb_ufal (test), got "train"',
    );
    await expect(loadCorpus("ud/nope", "train")).rejects.toThrow(
      "loadCorpus: name: expected a bundled corpus (ud/mt_mudt,",
    );
    await expect(loadCorpus("tatoeba/hsb", "test")).rejects.toThrow(
      'loadCorpus: name: expected a tagged corpus (ud/..., uner/...); load raw text with loadParallel, got "tatoeba/hsb"',
    );
    await expect(loadParallel("ud/hsb_ufal")).rejects.toThrow(
      'loadParallel: name: expected a parallel corpus (tatoeba/...); load tagged data with loadCorpus, got "ud/hsb_ufal"',
    );
    await expect(loadParallel("tatoeba/hsb", "dev")).rejects.toThrow(
      'loadParallel: split: expected a split of tatoeba/hsb (test), got "dev"',
    );
    expect(() => corpusFile("uner/da_ddt", "valid" as Split)).toThrow(
      'corpusFile: split: expected a split of uner/da_ddt (train, dev, test), got "valid"',
    );
    await expect(loadCorpus("ud/mt_mudt", "dev", { column: "lemma" as "upos" })).rejects.toThrow(
      'loadCorpus: options.column: expected "upos" or "xpos", got "lemma"',
    );
  });
});

describe("loadCorpus", () => {
  it("loads UD words and UPOS tags", async () => {
    const train = await loadCorpus("ud/mt_mudt", "train");
    expect(train).toHaveLength(1123);
    expect(train[0]).toEqual({
      id: "02_02J01:1",
      text: "Illum waranofsinhar il-Maġistrat Miriam Hayman iddikjarat li hemm biżżejjed provi biex il-ħames aħwa tan-negozjant George Farrugia jitqiegħdu taħt att ta' akkuża.",
      words:
        "Illum waranofsinhar il- Maġistrat Miriam Hayman iddikjarat li hemm biżżejjed provi biex il- ħames aħwa tan- negozjant George Farrugia jitqiegħdu taħt att ta' akkuża .".split(
          " ",
        ),
      tags: "ADV ADV DET NOUN PROPN PROPN VERB SCONJ VERB DET NOUN SCONJ DET NUM NOUN ADP NOUN PROPN PROPN VERB ADP NOUN ADP NOUN PUNCT".split(
        " ",
      ),
    });
    for (const sentence of train) expect(sentence.tags).toHaveLength(sentence.words.length);
  });

  it("loads XPOS on request", async () => {
    const train = await loadCorpus("ud/mt_mudt", "train", { column: "xpos" });
    expect(train[0]?.tags.slice(0, 5)).toEqual(["ADV", "ADV", "DEF", "NOUN", "NOUN_PROP"]);
  });

  it("skips multiword ranges in UD (Czech 'abychom' style tokens)", async () => {
    const dev = await loadCorpus("ud/cs_cac", "dev");
    const words = dev.reduce((n, s) => n + s.words.length, 0);
    expect(words).toBe(10912);
    const ranges = readFileSync(corpusFile("ud/cs_cac", "dev"), "utf8").match(/^\d+-\d+\t/gm)?.length ?? 0;
    expect(ranges).toBeGreaterThan(0);
  });

  it("loads UNER tokens and IOB2 tags", async () => {
    const train = await loadCorpus("uner/da_ddt", "train");
    expect(train).toHaveLength(4383);
    expect(train[0]?.words.slice(0, 4)).toEqual(["På", "fredag", "har", "SID"]);
    expect(train[0]?.tags.slice(13, 16)).toEqual(["O", "B-PER", "I-PER"]);
    const tags = new Set(train.flatMap((s) => s.tags));
    expect([...tags].sort()).toEqual(["B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"]);
  });
});

describe("loadParallel", () => {
  it("pairs the lines of both sides", async () => {
    const pairs = await loadParallel("tatoeba/hsb");
    expect(pairs).toHaveLength(483);
    expect(pairs[0]).toEqual({
      text: "Njejsym twoje prašenje rozumił.",
      english: "I didn't understand your question.",
    });
    const tokens = pairs.reduce((n, p) => n + p.text.split(/\s+/).filter((w) => w !== "").length, 0);
    expect(tokens).toBe(2216);
    expect(await loadParallel("tatoeba/fao", "test")).toHaveLength(262);
  });
});

describe("pairLines", () => {
  it("pairs lines and refuses sides of different lengths", () => {
    expect(pairLines("a\nb\n", "x\ny\n", "t.hsb", "t.eng")).toEqual([
      { text: "a", english: "x" },
      { text: "b", english: "y" },
    ]);
    expect(() => pairLines("a\nb\n", "x\n", "t.hsb", "t.eng")).toThrow(
      "pairLines: t.hsb: expected as many lines as t.eng (1), got 2",
    );
  });
});
