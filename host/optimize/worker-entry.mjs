// Worker threads do not inherit tsx's loader hooks from `node --import tsx`, so the
// worker registers them itself before loading the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
