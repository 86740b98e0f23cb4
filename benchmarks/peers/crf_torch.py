"""Torch peer of the @xlt/crf benchmark: pytorch-crf's algorithm, written from its description.

A linear-chain CRF as pytorch-crf computes it (Lafferty et al. 2001): time-major tensors, a
boolean mask over (steps, batch), the forward algorithm for log Z as a loop over steps with a
broadcast `score[:, :, None] + transitions + emissions[:, None, :]` and `logsumexp` over the
previous tag, the gold-path score by gathering, the NLL's gradients by autograd, and Viterbi with
`max` over the previous tag and backtracking in Python. CPU, float32, one thread.

Usage: /usr/bin/python3 crf_torch.py INPUT.bin REPEATS WARMUP [OPS]
OPS is a comma list of decode,logPartition,nll (default: all three). The input layout is the one
described in viterbi.c. Prints one JSON object with the wall-clock and process-CPU seconds of each
timed repeat per op, the Viterbi paths and scores, log Z per sequence and the mean NLL.
"""

import json
import struct
import sys
import time

import numpy as np
import torch


def read_problem(path):
    with open(path, "rb") as file:
        raw = file.read()
    if raw[:4] != b"XCRF":
        raise SystemExit("crf_torch: input file does not start with XCRF")
    version, batch, steps, tags = struct.unpack_from("<4i", raw, 4)
    if version != 1:
        raise SystemExit(f"crf_torch: unsupported input version {version}")
    offset = 20

    def take(dtype, count):
        nonlocal offset
        array = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
        offset += array.nbytes
        return torch.from_numpy(array.copy())

    emissions = take("<f4", batch * steps * tags).reshape(batch, steps, tags)
    transitions = take("<f4", tags * tags).reshape(tags, tags)
    start = take("<f4", tags)
    end = take("<f4", tags)
    lengths = take("<i4", batch).long()
    gold = take("<i4", batch * steps).reshape(batch, steps).long()
    return emissions, transitions, start, end, lengths, gold


class Crf:
    """Parameters `transitions[from, to]`, `start[tag]`, `end[tag]`; inputs are batch-first."""

    def __init__(self, transitions, start, end):
        self.transitions = transitions
        self.start = start
        self.end = end

    @staticmethod
    def _time_major(emissions, lengths, tags=None):
        batch, steps, _ = emissions.shape
        # shape: [steps, batch]
        mask = torch.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)
        tags_tm = None if tags is None else tags.transpose(0, 1)
        return emissions.transpose(0, 1), mask, tags_tm

    def _gold_score(self, emissions, tags, mask):
        # emissions: [steps, batch, tags]; tags, mask: [steps, batch]
        steps, batch = tags.shape
        rows = torch.arange(batch)
        maskf = mask.to(emissions.dtype)
        score = self.start[tags[0]] + emissions[0, rows, tags[0]]
        for i in range(1, steps):
            score = score + self.transitions[tags[i - 1], tags[i]] * maskf[i]
            score = score + emissions[i, rows, tags[i]] * maskf[i]
        last = mask.long().sum(0) - 1
        return score + self.end[tags[last, rows]]

    def _log_partition(self, emissions, mask):
        # score: [batch, tags], log-sum over the paths ending in each tag so far
        score = self.start + emissions[0]
        for i in range(1, emissions.shape[0]):
            # shape: [batch, from, to]
            candidates = score.unsqueeze(2) + self.transitions + emissions[i].unsqueeze(1)
            score = torch.where(mask[i].unsqueeze(1), torch.logsumexp(candidates, dim=1), score)
        return torch.logsumexp(score + self.end, dim=1)

    def log_partition(self, emissions, lengths):
        em, mask, _ = self._time_major(emissions, lengths)
        return self._log_partition(em, mask)

    def nll(self, emissions, tags, lengths):
        """Mean over sequences of log Z - score(gold)."""
        em, mask, tags_tm = self._time_major(emissions, lengths, tags)
        return (self._log_partition(em, mask) - self._gold_score(em, tags_tm, mask)).mean()

    def decode(self, emissions, lengths):
        em, mask, _ = self._time_major(emissions, lengths)
        score = self.start + em[0]
        history = []
        for i in range(1, em.shape[0]):
            candidates = score.unsqueeze(2) + self.transitions + em[i].unsqueeze(1)
            best, indices = candidates.max(dim=1)
            score = torch.where(mask[i].unsqueeze(1), best, score)
            history.append(indices)
        score = score + self.end
        last_steps = mask.long().sum(0) - 1
        paths, scores = [], []
        for b in range(em.shape[1]):
            best_score, best_last = score[b].max(dim=0)
            path = [best_last.item()]
            for indices in reversed(history[: last_steps[b]]):
                path.append(indices[b][path[-1]].item())
            path.reverse()
            paths.append(path)
            scores.append(best_score.item())
        return paths, scores


def timed(function, repeats, warmup):
    """Wall-clock and process-CPU seconds of each timed repeat."""
    for _ in range(warmup):
        function()
    seconds, cpu_seconds = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        function()
        cpu_seconds.append(time.process_time() - c0)
        seconds.append(time.perf_counter() - t0)
    return {"seconds": seconds, "cpuSeconds": cpu_seconds}


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit("usage: crf_torch.py INPUT.bin REPEATS WARMUP [decode,logPartition,nll]")
    torch.set_num_threads(1)
    repeats, warmup = int(sys.argv[2]), int(sys.argv[3])
    ops = sys.argv[4].split(",") if len(sys.argv) == 5 else ["decode", "logPartition", "nll"]
    emissions, transitions, start, end, lengths, gold = read_problem(sys.argv[1])
    result = {"peer": "torch", "torch": torch.__version__, "threads": torch.get_num_threads()}

    if "decode" in ops:
        crf = Crf(transitions, start, end)
        with torch.no_grad():
            seconds = timed(lambda: crf.decode(emissions, lengths), repeats, warmup)
            paths, scores = crf.decode(emissions, lengths)
        result["decode"] = seconds
        result["paths"], result["scores"] = paths, scores

    if "logPartition" in ops:
        crf = Crf(transitions, start, end)
        with torch.no_grad():
            seconds = timed(lambda: crf.log_partition(emissions, lengths), repeats, warmup)
            result["logZ"] = crf.log_partition(emissions, lengths).tolist()
        result["logPartition"] = seconds

    if "nll" in ops:
        leaves = [t.clone().requires_grad_(True) for t in (emissions, transitions, start, end)]
        crf = Crf(*leaves[1:])

        def step():
            for leaf in leaves:
                leaf.grad = None
            loss = crf.nll(leaves[0], gold, lengths)
            loss.backward()
            return loss

        result["nll"] = timed(step, repeats, warmup)
        result["loss"] = step().item()
        result["gradTransitionsSum"] = leaves[1].grad.sum().item()

    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
