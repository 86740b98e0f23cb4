import { type Node, producer, type Tensor } from "./graph.js";
import { formatShape } from "./shape.js";

function preview(tensor: Tensor): string {
  if (tensor.source.kind !== "constant") return "";
  const values: string[] = [];
  for (let index = 0; index < Math.min(6, tensor.source.data.length); index += 1)
    values.push(String(tensor.source.data[index]));
  return ` = [${values.join(", ")}${tensor.source.data.length > 6 ? ", …" : ""}]`;
}

function typeText(tensor: Tensor): string {
  return `${tensor.dtype}${formatShape(tensor.shape)}`;
}

/** Nodes and leaves `outputs` need, in order. */
function reach(outputs: readonly Tensor[]): { nodes: Node[]; leaves: Tensor[] } {
  const nodes = new Set<Node>();
  const leaves = new Set<Tensor>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const tensor = stack.pop() as Tensor;
    const node = producer(tensor);
    if (!node) {
      leaves.add(tensor);
      continue;
    }
    if (nodes.has(node)) continue;
    nodes.add(node);
    stack.push(...node.inputs);
  }
  return {
    nodes: [...nodes].sort((a, b) => a.order - b.order),
    leaves: [...leaves].sort((a, b) => a.id - b.id),
  };
}

function nodeLines(nodes: readonly Node[], indent: string): string[] {
  const lines: string[] = [];
  for (const node of nodes) {
    const results = node.outputs.map((output) => `${output.name}: ${typeText(output)}`).join(", ");
    const attrs = node.attrsText ? ` {${node.attrsText}}` : "";
    lines.push(
      `${indent}${results} = ${node.op}(${node.inputs.map((input) => input.name).join(", ")})${attrs}`,
    );
    for (const body of node.bodies) {
      const inner = reach(body.outputs);
      lines.push(
        `${indent}  body(${body.inputs.map((input) => `${input.name}: ${typeText(input)}`).join(", ")}) {`,
      );
      lines.push(...nodeLines(inner.nodes, `${indent}    `));
      lines.push(`${indent}    return ${body.outputs.map((output) => output.name).join(", ")}`);
      lines.push(`${indent}  }`);
    }
  }
  return lines;
}

/**
 * A readable listing of what `outputs` need: inputs, initializers, constants, then one line per node
 * (`t7: float32[batch,4] = MatMul(x, w)`) with Scan bodies indented below their node, then the outputs.
 */
export function dump(outputs: Readonly<Record<string, Tensor>>): string {
  const { nodes, leaves } = reach(Object.values(outputs));
  const lines: string[] = [];
  for (const leaf of leaves)
    lines.push(`${leaf.source.kind} ${leaf.name}: ${typeText(leaf)}${preview(leaf)}`);
  lines.push(...nodeLines(nodes, ""));
  for (const [name, tensor] of Object.entries(outputs)) lines.push(`output ${name} = ${tensor.name}`);
  return lines.join("\n");
}
