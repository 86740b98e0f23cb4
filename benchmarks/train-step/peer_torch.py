"""torch eager peer for benchmarks/train-step: the same MLP training step as xlt's.

Usage: /usr/bin/python3 peer_torch.py '<json config>'; prints one JSON object with the median
wall-clock and process-CPU seconds per step for each thread count. Step = forward, cross-entropy, backward,
clip_grad_norm_, AdamW (weight decay on weights only), zero_grad.
"""

import json
import statistics
import sys
import time

import torch

config = json.loads(sys.argv[1])
sizes = config["sizes"]
batch = config["batch"]
torch.manual_seed(0)
results, cpu_results = {}, {}
for threads in config["threads"]:
    torch.set_num_threads(threads)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
    x = torch.randn(batch, sizes[0])
    y = torch.randint(0, sizes[-1], (batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    for _ in range(config["warmup"]):
        step()
    medians, cpu = [], []
    for _ in range(config["repeats"]):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(config["steps"]):
            step()
        medians.append((time.perf_counter() - start) / config["steps"])
        cpu.append((time.process_time() - start_cpu) / config["steps"])
    results[str(threads)] = statistics.median(medians)
    cpu_results[str(threads)] = statistics.median(cpu)
print(json.dumps({"torch": torch.__version__, "seconds_per_step": results, "cpu_seconds_per_step": cpu_results}))
