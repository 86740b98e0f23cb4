export { HeadsError } from "./errors.js";
export { BiLstm, type BiLstmOptions, type LstmInput, type LstmOutput } from "./lstm.js";
