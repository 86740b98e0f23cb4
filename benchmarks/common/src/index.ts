export { format, peerEnv, runChild, runPeerScript } from "./processes.js";
export { median, table } from "./stats.js";
