// Entry of a server worker thread. Workers do not inherit the parent's TypeScript
// loader (tsx), whether it came from --import or from code (bin/axformer.js), and
// on Node 20 a worker's own --import tsx does not apply to its entry either; so
// this plain-JS entry registers tsx, then loads the TypeScript thread code.
import { workerData } from "node:worker_threads";

const { register } = await import(workerData.tsxApi);
register();
await import(workerData.script);
