export { CrfError } from "./errors.js";
