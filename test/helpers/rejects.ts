// Asserts that a conversion fails with a ConvertError whose message names every part.
import * as assert from "uvu/assert";
import { ConvertError } from "../../host/convert/index.ts";

export async function rejects(p: Promise<unknown>, ...parts: string[]): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected an error mentioning ${parts.join(", ")}`);
  assert.instance(err, ConvertError);
  const msg = (err as Error).message;
  for (const part of parts) assert.ok(msg.includes(part), `error "${msg}" does not mention ${JSON.stringify(part)}`);
}
