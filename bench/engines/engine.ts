// What the bench needs of an engine: logits for one sequence (batch 1).
export interface Engine {
  name: string;
  logits(ids: Int32Array, typeIds: Int32Array): Promise<Float32Array> | Float32Array;
  dispose(): Promise<void> | void;
}
