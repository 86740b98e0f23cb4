"""torch peer of benchmarks/bilstm-crf: the same BiLSTM-CRF and Adam step, timed in this process.

Run by src/bench.ts under /usr/bin/python3 (Debian python3-torch) with a JSON config argument;
prints JSON: the torch version and the median seconds per step at each thread count, by the clock
and in CPU time of this process (all its threads).
Embedding -> nn.LSTM(bidirectional, batch_first) -> Linear -> CRF negative log-likelihood with
pytorch-crf's algorithm (forward algorithm and gold score, one vectorised step per position),
mean over sentences, Adam (lr 1e-3), float32.
"""

import json
import statistics
import sys
import time

import torch

cfg = json.loads(sys.argv[1])


class BiLstmCrf(torch.nn.Module):
    def __init__(self):
        super().__init__()
        K = cfg["tags"]
        self.embedding = torch.nn.Embedding(cfg["vocab"], cfg["dim"])
        self.lstm = torch.nn.LSTM(
            cfg["dim"], cfg["hidden"], num_layers=cfg["layers"], bidirectional=True, batch_first=True
        )
        self.emission = torch.nn.Linear(2 * cfg["hidden"], K)
        self.transitions = torch.nn.Parameter(torch.empty(K, K).uniform_(-0.1, 0.1))
        self.start = torch.nn.Parameter(torch.empty(K).uniform_(-0.1, 0.1))
        self.end = torch.nn.Parameter(torch.empty(K).uniform_(-0.1, 0.1))

    def forward(self, x, y, mask):
        e = self.emission(self.lstm(self.embedding(x))[0])  # [B, T, K]
        B, T, _ = e.shape
        score = self.start + e[:, 0]
        for t in range(1, T):
            following = torch.logsumexp(score.unsqueeze(2) + self.transitions + e[:, t].unsqueeze(1), dim=1)
            score = torch.where(mask[:, t].unsqueeze(1), following, score)
        log_z = torch.logsumexp(score + self.end, dim=1)
        rows = torch.arange(B)
        gold = self.start[y[:, 0]] + e[rows, 0, y[:, 0]]
        for t in range(1, T):
            gold = gold + (self.transitions[y[:, t - 1], y[:, t]] + e[rows, t, y[:, t]]) * mask[:, t]
        gold = gold + self.end[y[:, -1]]
        return (log_z - gold).mean()


torch.manual_seed(0)
model = BiLstmCrf()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
B, T = cfg["batch"], cfg["steps"]
x = torch.tensor([[(b * 131 + t * 17) % (cfg["vocab"] - 2) + 2 for t in range(T)] for b in range(B)])
y = torch.tensor([[(b + t) % cfg["tags"] for t in range(T)] for b in range(B)])
mask = torch.ones(B, T, dtype=torch.bool)


def step():
    optimizer.zero_grad()
    loss = model(x, y, mask)
    loss.backward()
    optimizer.step()


seconds = {}
cpu_seconds = {}
for threads in cfg["threads"]:
    torch.set_num_threads(threads)
    for _ in range(cfg["warmup"]):
        step()
    times = []
    cpu_times = []
    for _ in range(cfg["repeats"]):
        start = time.perf_counter()
        cpu_start = time.process_time()
        for _ in range(cfg["stepsPerRepeat"]):
            step()
        times.append((time.perf_counter() - start) / cfg["stepsPerRepeat"])
        cpu_times.append((time.process_time() - cpu_start) / cfg["stepsPerRepeat"])
    seconds[str(threads)] = statistics.median(times)
    cpu_seconds[str(threads)] = statistics.median(cpu_times)
print(
    json.dumps(
        {"torch": torch.__version__, "seconds_per_step": seconds, "cpu_seconds_per_step": cpu_seconds}
    )
)
