import { parentPort, workerData } from "node:worker_threads";
import type { SessionConfig } from "./providers.js";
import { type PortableModel, type PortableParts, stepOf, TrainingSession } from "./session.js";
import type { WorkerReply, WorkerRequest } from "./worker-session.js";

/** What the main thread hands the worker: plain data and serialised models. */
export interface WorkerInit {
  readonly parts: PortableParts;
  readonly models: Readonly<Record<"train" | "evaluate" | "gradient" | "apply", PortableModel>>;
  readonly config: SessionConfig;
}

// The worker side of `WorkerSession`: owns the ORT sessions, parameters and optimizer state, and
// answers one request at a time, so `session.run` blocks this thread, not the main one.
const init: WorkerInit = workerData;
const port = parentPort;
if (port) {
  const session = new TrainingSession({
    ...init.parts,
    train: await stepOf(init.models.train, init.config),
    evaluate: await stepOf(init.models.evaluate, init.config),
    accumulation: async () => ({
      gradient: await stepOf(init.models.gradient, init.config),
      apply: await stepOf(init.models.apply, init.config),
    }),
  });
  const answer = async (request: WorkerRequest): Promise<unknown> => {
    switch (request.kind) {
      case "trainStep":
        return session.trainStep(request.batch, request.lrScale);
      case "evalStep":
        return session.evalStep(request.batch);
      case "snapshot":
        return session.snapshot();
      case "restore":
        session.restore(request.tensors, request.step, request.shapes);
        return null;
      case "release":
        await session.release();
        return null;
    }
  };
  port.on("message", (request: WorkerRequest) => {
    answer(request).then(
      (value) => port.postMessage({ id: request.id, value } satisfies WorkerReply),
      (error: unknown) => {
        const fields =
          error instanceof Error
            ? { ...error, name: error.name, message: error.message }
            : { name: "Error", message: String(error) };
        port.postMessage({ id: request.id, error: fields } satisfies WorkerReply);
      },
    );
  });
  port.postMessage({ id: -1, value: "ready" } satisfies WorkerReply);
}
