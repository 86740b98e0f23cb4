"""torch eager peer for benchmarks/lora-train-step: the same BERT-style tagger, LoRA and step as xlt's.

Usage: /usr/bin/python3 peer_torch.py '<json job>' (the job bench.ts measures: method, shape, batch,
steps, threads, warmup, repeats, stepsPerRepeat, lora). Prints one JSON object with the median
seconds per step and the trainable parameter count.

Methods: "full" (every parameter trains), "lora-qv" and "lora-all": LoRA written by hand as PEFT's
`LoraLayer` computes it, `base(x) + lora_B(lora_A(dropout(x))) * alpha / r` with lora_A [r, in]
Kaiming-uniform (a = sqrt(5)) and lora_B [out, r] zero, on query/value or on every linear layer of
the encoder; the base model frozen (requires_grad False) and the classifier trained (PEFT's
modules_to_save). Step = zero_grad, forward, token cross-entropy (ignore -100), backward,
clip_grad_norm_(1) over the trainable parameters, AdamW (lr 1e-3, weight decay 0.01 except biases
and LayerNorms) on the trainable parameters only.
"""

import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

job = json.loads(sys.argv[1])
shape = job["shape"]
torch.set_num_threads(job["threads"])
torch.manual_seed(0)
EPS = 1e-12


class LoraLinear(torch.nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update, as PEFT's lora.Linear (one adapter)."""

    def __init__(self, base, r, alpha, p):
        super().__init__()
        self.base, self.p, self.scaling = base, p, alpha / r
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        self.lora_A = torch.nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = torch.nn.Parameter(torch.zeros(base.out_features, r))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x):
        update = F.linear(F.linear(F.dropout(x, self.p, self.training), self.lora_A), self.lora_B)
        return self.base(x) + update * self.scaling


class Layer(torch.nn.Module):
    def __init__(self, hidden, heads, ffn, p):
        super().__init__()
        self.heads, self.p = heads, p
        self.query = torch.nn.Linear(hidden, hidden)
        self.key = torch.nn.Linear(hidden, hidden)
        self.value = torch.nn.Linear(hidden, hidden)
        self.attention_output = torch.nn.Linear(hidden, hidden)
        self.attention_norm = torch.nn.LayerNorm(hidden, eps=EPS)
        self.intermediate = torch.nn.Linear(hidden, ffn)
        self.output = torch.nn.Linear(ffn, hidden)
        self.output_norm = torch.nn.LayerNorm(hidden, eps=EPS)

    def split(self, x):
        b, t, h = x.shape
        return x.view(b, t, self.heads, h // self.heads).transpose(1, 2)

    def forward(self, x, keep):
        b, t, h = x.shape
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(h // self.heads)
        scores = scores.masked_fill(~keep[:, None, None, :], -1e9)
        probabilities = F.dropout(scores.softmax(-1), self.p, self.training)
        attended = (probabilities @ v).transpose(1, 2).reshape(b, t, h)
        x = self.attention_norm(x + F.dropout(self.attention_output(attended), self.p, self.training))
        inner = F.gelu(self.intermediate(x))
        return self.output_norm(x + F.dropout(self.output(inner), self.p, self.training))


class Tagger(torch.nn.Module):
    def __init__(self, s):
        super().__init__()
        self.p = s["dropout"]
        self.word = torch.nn.Embedding(s["vocab"], s["hidden"])
        self.position = torch.nn.Embedding(s["positions"], s["hidden"])
        self.token_type = torch.nn.Embedding(2, s["hidden"])
        self.norm = torch.nn.LayerNorm(s["hidden"], eps=EPS)
        self.layers = torch.nn.ModuleList(
            [Layer(s["hidden"], s["heads"], s["ffn"], s["dropout"]) for _ in range(s["layers"])]
        )
        self.classifier = torch.nn.Linear(s["hidden"], s["tags"])

    def forward(self, ids, keep):
        positions = torch.arange(ids.shape[1])
        x = self.word(ids) + self.position(positions)[None] + self.token_type.weight[0]
        x = F.dropout(self.norm(x), self.p, self.training)
        for layer in self.layers:
            x = layer(x, keep)
        return self.classifier(F.dropout(x, self.p, self.training))


TARGETS = {
    "lora-qv": ["query", "value"],
    "lora-all": ["query", "key", "value", "attention_output", "intermediate", "output"],
}

model = Tagger(shape)
method = job["method"]
if method in TARGETS:
    lora = job["lora"]
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for layer in model.layers:
        for name in TARGETS[method]:
            setattr(layer, name, LoraLinear(getattr(layer, name), lora["r"], lora["alpha"], lora["dropout"]))
    for parameter in model.classifier.parameters():
        parameter.requires_grad_(True)
elif method != "full":
    raise SystemExit(f"peer_torch.py: method: expected full, lora-qv or lora-all, got {method!r}")
model.train()

named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
no_decay = lambda n: n.endswith("bias") or "norm" in n  # noqa: E731
optimizer = torch.optim.AdamW(
    [
        {"params": [p for n, p in named if not no_decay(n)], "weight_decay": 0.01},
        {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0},
    ],
    lr=1e-3,
)
trainable = [p for _, p in named]

batch, steps = job["batch"], job["steps"]
ids = torch.zeros(batch, steps, dtype=torch.long)
labels = torch.full((batch, steps), -100, dtype=torch.long)
keep = torch.zeros(batch, steps, dtype=torch.bool)
for b in range(batch):
    length = steps - (b * 7) % 17
    for t in range(steps):
        token = (b * 131 + t * 17 + 1) % shape["vocab"]
        ids[b, t] = token
        if t < length:
            keep[b, t] = True
            labels[b, t] = token % shape["tags"]


def step():
    optimizer.zero_grad(set_to_none=True)
    logits = model(ids, keep)
    loss = F.cross_entropy(logits.reshape(-1, shape["tags"]), labels.reshape(-1), ignore_index=-100)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
    optimizer.step()


for _ in range(job["warmup"]):
    step()
times = []
for _ in range(job["repeats"]):
    start = time.perf_counter()
    for _ in range(job["stepsPerRepeat"]):
        step()
    times.append((time.perf_counter() - start) / job["stepsPerRepeat"])
print(
    json.dumps(
        {
            "torch": torch.__version__,
            "seconds": statistics.median(times),
            "trainable": sum(p.numel() for p in trainable),
        }
    )
)
