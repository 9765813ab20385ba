// Compiles a test-only AssemblyScript entry (test/wasm/<name>.as, kept out of uvu's
// and tsc's *.ts globs) with the runtime's flags; asc reads it as if it were
// test/wasm/<name>.ts.
import asc from "assemblyscript/asc";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export async function compileTestEntry(name: string): Promise<Uint8Array<ArrayBuffer>> {
  const entry = join("test", "wasm", `${name}.ts`);
  let binary: Uint8Array | null = null;
  const { error, stderr } = await asc.main(
    [entry, "-O3", "--enable", "simd", "--runtime", "incremental", "--outFile", `${name}.wasm`],
    {
      readFile(file: string, baseDir: string) {
        let path = join(ROOT, baseDir, file);
        if (path.endsWith(entry)) path = path.replace(/\.ts$/, ".as");
        try {
          return readFileSync(path, "utf8");
        } catch {
          return null;
        }
      },
      writeFile(file: string, contents: Uint8Array | string) {
        if (file.endsWith(".wasm")) binary = contents as Uint8Array;
      },
      listFiles() {
        return [];
      },
    },
  );
  if (error || !binary) throw new Error(`asc failed on test/wasm/${name}.as: ${error}\n${stderr}`);
  return new Uint8Array(binary);
}
