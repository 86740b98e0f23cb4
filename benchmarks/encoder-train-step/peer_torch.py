"""torch eager peer for benchmarks/encoder-train-step: the same BERT-style tagger and step as xlt's.

Usage: /usr/bin/python3 peer_torch.py '<json job>' (the job bench.ts measures: shape, batch, steps,
threads, checkpoint, warmup, repeats, stepsPerRepeat). Prints one JSON object: the median seconds
per step, the resident set before the first step and its peak during the steps (MiB; the peak is
reset through /proc/self/clear_refs). Step = zero_grad, forward, token cross-entropy (ignore -100),
backward, clip_grad_norm_(1), AdamW (lr 5e-5, weight decay 0.01 except biases and LayerNorms).
"""

import json
import math
import re
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

job = json.loads(sys.argv[1])
shape = job["shape"]
torch.set_num_threads(job["threads"])
torch.manual_seed(0)
EPS = 1e-12


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
    def __init__(self, s, checkpointed):
        super().__init__()
        self.checkpointed, self.p = checkpointed, s["dropout"]
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
            x = checkpoint(layer, x, keep, use_reentrant=False) if self.checkpointed else layer(x, keep)
        return self.classifier(F.dropout(x, self.p, self.training))


model = Tagger(shape, job["checkpoint"])
model.train()
decay = [p for n, p in model.named_parameters() if n.endswith("weight") and "norm" not in n]
no_decay = [p for n, p in model.named_parameters() if not (n.endswith("weight") and "norm" not in n)]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=5e-5
)

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
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def memory():
    with open("/proc/self/status") as f:
        status = f.read()
    read = lambda key: int(re.search(rf"{key}:\s+(\d+) kB", status).group(1)) / 1024  # noqa: E731
    return read("VmRSS"), read("VmHWM")


with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
base, _ = memory()
for _ in range(job["warmup"]):
    step()
times = []
for _ in range(job["repeats"]):
    start = time.perf_counter()
    for _ in range(job["stepsPerRepeat"]):
        step()
    times.append((time.perf_counter() - start) / job["stepsPerRepeat"])
_, peak = memory()
print(json.dumps({"torch": torch.__version__, "seconds": statistics.median(times), "baseMiB": base, "peakMiB": peak}))
