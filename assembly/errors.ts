// The last error, as a UTF-8 message the host reads with error_ptr()/error_len().
// Every failing export returns a negative code after calling fail(), so the host
// never has to guess what went wrong.

let errorBuf: ArrayBuffer = new ArrayBuffer(0);

export function fail(message: string): i32 {
  errorBuf = String.UTF8.encode(message);
  return -1;
}

export function clearError(): void {
  errorBuf = new ArrayBuffer(0);
}

export function errorPtr(): usize {
  return changetype<usize>(errorBuf);
}

export function errorLen(): i32 {
  return errorBuf.byteLength;
}
