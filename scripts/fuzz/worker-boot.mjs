// Entry of the fuzz worker thread. Workers do not inherit tsx's loader hooks,
// so this plain-JS entry registers them, then loads the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
