export { median, table } from "./stats.js";
