// A protobuf encoder just large enough for ONNX: varints, strings, bytes,
// nested messages. Parts are kept by reference and joined once at the end,
// so a 440 MB initializer is copied exactly once (into the final buffer).

const utf8 = new TextEncoder();

export class Msg {
  private parts: Uint8Array[] = [];
  length = 0;

  // int32 / int64 / enum / bool fields (negative numbers: 10-byte two's complement).
  int(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  msg(field: number, value: Msg): this {
    this.key(field, 2);
    this.varint(value.length);
    for (const p of value.parts) this.push(p);
    return this;
  }

  // repeated int64, packed (proto3's default encoding).
  packedInts(field: number, values: Array<number | bigint>): this {
    const inner = new Msg();
    for (const v of values) inner.varint(v);
    return this.msg(field, inner);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.push(Uint8Array.from(bytes));
  }

  private push(p: Uint8Array): void {
    this.parts.push(p);
    this.length += p.length;
  }
}
