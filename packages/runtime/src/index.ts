export {
  type Checkpoint,
  checkpointName,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  type TrainerState,
  writeFileAtomic,
} from "./checkpoint.js";
export { type CompileOptions, compile, type Model } from "./compile.js";
export { RuntimeError } from "./errors.js";
export { assignGroups, type GroupMatch, layerwiseGroups, type ParameterGroup } from "./groups.js";
export {
  type AdamOptions,
  type OptimizerOptions,
  type SgdOptions,
  stateSlots,
  type UpdateScalars,
  update,
} from "./optimizers.js";
export { createSession, type ExecutionProvider, type SessionConfig, sessionOptions } from "./providers.js";
export {
  constantSchedule,
  cosineWithWarmup,
  linearWarmupDecay,
  ReduceOnPlateau,
  type Schedule,
  sample,
  stepDecay,
} from "./schedules.js";
export { type Batch, type Snapshot, type StepResult, type StepSession, TrainingSession } from "./session.js";
export type { FloatArray, InputSpec, LossFunction, LossResult } from "./train-graph.js";
export { Trainer, type TrainerOptions, type TrainerResult } from "./trainer.js";
export { compileInWorker, WorkerSession } from "./worker-session.js";
