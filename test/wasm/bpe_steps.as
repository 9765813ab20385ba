// The runtime with byte-level BPE's work counter exported (test/bpe-hardening.test.ts).
export * from "../../assembly/index";
import { bpeSteps, resetBpeSteps } from "../../assembly/tokenizer/bpe";
export function bpe_steps(): f64 { return <f64>bpeSteps; }
export function reset_bpe_steps(): void { resetBpeSteps(); }
