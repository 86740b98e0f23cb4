import { add, checkpoint, crossEntropy, dropout, gelu, type Tensor } from "@xlt/graph";
import {
  deriveSeed,
  Embedding,
  type ForwardContext,
  LayerNorm,
  Linear,
  mergeHeads,
  type ParameterTree,
  positionsAlong,
  scaledDotProductAttention,
  splitHeads,
  subtree,
  type TensorTree,
} from "@xlt/nn";

/** The shapes of a BERT-style token classifier (post-LN, absolute positions, token types). */
export interface EncoderShape {
  readonly vocab: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly ffn: number;
  readonly positions: number;
  readonly tags: number;
  readonly dropout: number;
}

const EPSILON = 1e-12;

/**
 * A BERT-style encoder with a token-classification head, written from `@xlt/nn` layers as
 * `peer_torch.py` writes the same model in torch: embeddings (word + position + token type, LayerNorm,
 * dropout), then post-LN layers (self-attention, add & norm, GELU feed-forward, add & norm), then a
 * linear classifier. With `checkpointed`, each layer's activations are recomputed in the backward pass.
 */
export class EncoderTagger {
  readonly parameters: ParameterTree;
  private readonly word: Embedding;
  private readonly position: Embedding;
  private readonly tokenType: Embedding;
  private readonly norm: LayerNorm;
  private readonly dense: (name: string) => Linear;
  private readonly classifier: Linear;

  constructor(
    readonly shape: EncoderShape,
    readonly checkpointed: boolean,
  ) {
    const { vocab, hidden, ffn, positions, tags } = shape;
    this.word = new Embedding(vocab, hidden);
    this.position = new Embedding(positions, hidden);
    this.tokenType = new Embedding(2, hidden);
    this.norm = new LayerNorm(hidden, EPSILON);
    this.classifier = new Linear(hidden, tags);
    const linears: Record<string, Linear> = {
      query: new Linear(hidden, hidden),
      key: new Linear(hidden, hidden),
      value: new Linear(hidden, hidden),
      attentionOutput: new Linear(hidden, hidden),
      intermediate: new Linear(hidden, ffn),
      output: new Linear(ffn, hidden),
    };
    this.dense = (name) => linears[name] as Linear;
    const layer = (): ParameterTree => ({
      query: new Linear(hidden, hidden).parameters,
      key: new Linear(hidden, hidden).parameters,
      value: new Linear(hidden, hidden).parameters,
      attentionOutput: new Linear(hidden, hidden).parameters,
      attentionNorm: new LayerNorm(hidden, EPSILON).parameters,
      intermediate: new Linear(hidden, ffn).parameters,
      output: new Linear(ffn, hidden).parameters,
      outputNorm: new LayerNorm(hidden, EPSILON).parameters,
    });
    const layers: Record<string, ParameterTree> = {};
    for (let index = 0; index < shape.layers; index += 1) layers[`layer${index}`] = layer();
    this.parameters = {
      embeddings: {
        word: this.word.parameters,
        position: this.position.parameters,
        tokenType: this.tokenType.parameters,
        norm: this.norm.parameters,
      },
      layers,
      classifier: this.classifier.parameters,
    };
  }

  private drop(x: Tensor, site: string, context: ForwardContext): Tensor {
    return dropout(x, this.shape.dropout, deriveSeed(0, site) % 1_000_003, context.training, context.key);
  }

  private layer(params: TensorTree, x: Tensor, mask: Tensor, context: ForwardContext, site: string): Tensor {
    const { heads } = this.shape;
    const linear = (name: string, input: Tensor) => this.dense(name).forward(subtree(params, name), input);
    const q = splitHeads(linear("query", x), heads); // shape: [batch, heads, steps, hidden/heads]
    const k = splitHeads(linear("key", x), heads);
    const v = splitHeads(linear("value", x), heads);
    const attended = mergeHeads(
      scaledDotProductAttention(q, k, v, {
        mask,
        dropout: { rate: this.shape.dropout, seed: deriveSeed(1, site) % 1_000_003, context },
      }),
    ); // shape: [batch, steps, hidden]
    const attention = this.drop(linear("attentionOutput", attended), `${site}.attention`, context);
    const h = this.norm.forward(subtree(params, "attentionNorm"), add(x, attention));
    const inner = gelu(linear("intermediate", h)); // shape: [batch, steps, ffn]
    const out = this.drop(linear("output", inner), `${site}.output`, context);
    return this.norm.forward(subtree(params, "outputNorm"), add(h, out));
  }

  /** Mean token cross-entropy; `ids`, `labels` int64 [batch, steps], `mask` bool [batch, steps]. */
  loss(params: TensorTree, ids: Tensor, mask: Tensor, labels: Tensor, context: ForwardContext): Tensor {
    const embeddings = subtree(params, "embeddings");
    const positions = positionsAlong(ids, 1); // shape: [steps]
    const typeZero = ids.graph.constant(BigInt64Array.of(0n), [1]); // every token has type 0
    const word = this.word.forward(subtree(embeddings, "word"), ids); // shape: [batch, steps, hidden]
    const position = this.position.forward(subtree(embeddings, "position"), positions); // shape: [steps, hidden]
    const type = this.tokenType.forward(subtree(embeddings, "tokenType"), typeZero); // shape: [1, hidden]
    let x = add(add(word, position), type);
    x = this.drop(this.norm.forward(subtree(embeddings, "norm"), x), "embeddings", context);
    const layers = subtree(params, "layers");
    for (let index = 0; index < this.shape.layers; index += 1) {
      const site = `layer${index}`;
      const run = (input: Tensor) => this.layer(subtree(layers, site), input, mask, context, site);
      x = this.checkpointed ? checkpoint(([input]) => run(input as Tensor), [x]) : run(x);
    }
    const logits = this.classifier.forward(subtree(params, "classifier"), x); // shape: [batch, steps, tags]
    return crossEntropy(logits, labels, -100);
  }
}
