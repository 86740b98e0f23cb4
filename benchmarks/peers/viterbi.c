/*
 * Plain C Viterbi decoder for a linear-chain CRF: the C peer of the @xlt/crf benchmark.
 *
 * Usage: viterbi INPUT.bin REPEATS WARMUP
 * INPUT.bin (little-endian), written by benchmarks/crf:
 *   char[4] "XCRF", int32 version (1), int32 batch, int32 steps, int32 tags,
 *   float32 emissions[batch][steps][tags], float32 transitions[tags][tags] ([from][to]),
 *   float32 start[tags], float32 end[tags], int32 lengths[batch], int32 gold[batch][steps].
 * Prints one JSON object: the wall-clock and process-CPU seconds of each timed repeat (decoding the
 * whole batch), the best paths and their scores. Scores accumulate in double.
 */
#define _POSIX_C_SOURCE 199309L
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *message) {
  fprintf(stderr, "viterbi: %s\n", message);
  exit(1);
}

static void read_exact(FILE *file, void *buffer, size_t size) {
  if (fread(buffer, 1, size, file) != size) die("input file is truncated");
}

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
  int batch, steps, tags;
  float *emissions, *transitions, *start, *end;
  int32_t *lengths;
} Problem;

typedef struct {
  double *previous, *current, *transposed;
  int32_t *backpointers; /* [steps][tags] */
  int32_t *paths;        /* [batch][steps] */
  double *scores;        /* [batch] */
} Scratch;

/* Decodes every sequence of the batch; paths past a sequence's length are left as -1. */
static void decode(const Problem *p, Scratch *s) {
  const int T = p->tags;
  for (int b = 0; b < p->batch; b++) {
    const int length = p->lengths[b];
    const float *emissions = p->emissions + (size_t)b * p->steps * T;
    for (int k = 0; k < T; k++) s->previous[k] = (double)p->start[k] + emissions[k];
    for (int t = 1; t < length; t++) {
      const float *row = emissions + (size_t)t * T;
      int32_t *back = s->backpointers + (size_t)t * T;
      for (int k = 0; k < T; k++) {
        const double *into_k = s->transposed + (size_t)k * T;
        double best = -DBL_MAX;
        int argbest = 0;
        for (int j = 0; j < T; j++) {
          const double candidate = s->previous[j] + into_k[j];
          if (candidate > best) {
            best = candidate;
            argbest = j;
          }
        }
        s->current[k] = best + row[k];
        back[k] = argbest;
      }
      double *swap = s->previous;
      s->previous = s->current;
      s->current = swap;
    }
    double best = -DBL_MAX;
    int last = 0;
    for (int k = 0; k < T; k++) {
      const double candidate = s->previous[k] + p->end[k];
      if (candidate > best) {
        best = candidate;
        last = k;
      }
    }
    int32_t *path = s->paths + (size_t)b * p->steps;
    for (int t = length; t < p->steps; t++) path[t] = -1;
    path[length - 1] = last;
    for (int t = length - 1; t > 0; t--) {
      last = s->backpointers[(size_t)t * T + last];
      path[t - 1] = last;
    }
    s->scores[b] = best;
  }
}

int main(int argc, char **argv) {
  if (argc != 4) die("usage: viterbi INPUT.bin REPEATS WARMUP");
  const int repeats = atoi(argv[2]);
  const int warmup = atoi(argv[3]);
  if (repeats < 1 || warmup < 0) die("REPEATS must be >= 1 and WARMUP >= 0");
  FILE *file = fopen(argv[1], "rb");
  if (!file) die("cannot open the input file");
  char magic[4];
  int32_t header[4];
  read_exact(file, magic, 4);
  if (memcmp(magic, "XCRF", 4) != 0) die("input file does not start with XCRF");
  read_exact(file, header, sizeof header);
  if (header[0] != 1) die("unsupported input version");
  Problem p = {header[1], header[2], header[3], NULL, NULL, NULL, NULL, NULL};
  const size_t n = (size_t)p.batch * p.steps * p.tags;
  p.emissions = malloc(n * sizeof(float));
  p.transitions = malloc((size_t)p.tags * p.tags * sizeof(float));
  p.start = malloc(p.tags * sizeof(float));
  p.end = malloc(p.tags * sizeof(float));
  p.lengths = malloc(p.batch * sizeof(int32_t));
  read_exact(file, p.emissions, n * sizeof(float));
  read_exact(file, p.transitions, (size_t)p.tags * p.tags * sizeof(float));
  read_exact(file, p.start, p.tags * sizeof(float));
  read_exact(file, p.end, p.tags * sizeof(float));
  read_exact(file, p.lengths, p.batch * sizeof(int32_t));
  fclose(file);
  for (int b = 0; b < p.batch; b++)
    if (p.lengths[b] < 1 || p.lengths[b] > p.steps) die("a length is out of 1..steps");

  Scratch s;
  s.previous = malloc(p.tags * sizeof(double));
  s.current = malloc(p.tags * sizeof(double));
  s.transposed = malloc((size_t)p.tags * p.tags * sizeof(double));
  s.backpointers = malloc((size_t)p.steps * p.tags * sizeof(int32_t));
  s.paths = malloc((size_t)p.batch * p.steps * sizeof(int32_t));
  s.scores = malloc(p.batch * sizeof(double));
  for (int j = 0; j < p.tags; j++)
    for (int k = 0; k < p.tags; k++) s.transposed[(size_t)k * p.tags + j] = p.transitions[(size_t)j * p.tags + k];

  for (int r = 0; r < warmup; r++) decode(&p, &s);
  double *seconds = malloc(repeats * sizeof(double));
  double *cpu_seconds = malloc(repeats * sizeof(double));
  for (int r = 0; r < repeats; r++) {
    const double t0 = clock_seconds(CLOCK_MONOTONIC);
    const double c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    decode(&p, &s);
    cpu_seconds[r] = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    seconds[r] = clock_seconds(CLOCK_MONOTONIC) - t0;
  }

  printf("{\"peer\":\"c\",\"decode\":{\"seconds\":[");
  for (int r = 0; r < repeats; r++) printf("%s%.9f", r ? "," : "", seconds[r]);
  printf("],\"cpuSeconds\":[");
  for (int r = 0; r < repeats; r++) printf("%s%.9f", r ? "," : "", cpu_seconds[r]);
  printf("]},\"scores\":[");
  for (int b = 0; b < p.batch; b++) printf("%s%.17g", b ? "," : "", s.scores[b]);
  printf("],\"paths\":[");
  for (int b = 0; b < p.batch; b++) {
    printf("%s[", b ? "," : "");
    for (int t = 0; t < p.lengths[b]; t++) printf("%s%d", t ? "," : "", s.paths[(size_t)b * p.steps + t]);
    printf("]");
  }
  printf("]}\n");
  return 0;
}
