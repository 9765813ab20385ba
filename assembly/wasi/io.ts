// File, stdin, stdout, stderr and argument access through WASI preview1, for the
// standalone build only.
// WASI has no "open by absolute path": a path is opened relative to one of the
// directories the runtime pre-opened (wasmtime --dir, node:wasi `preopens`), so we
// look for the pre-opened directory whose name is a prefix of the path.
import {
  fd_prestat_get, fd_prestat_dir_name, path_open, fd_filestat_get, fd_read, fd_close, fd_write,
  args_sizes_get, args_get, errno, rights, preopentype, iovec, prestat, filestat
} from "bindings/wasi_snapshot_preview1";

// Scratch for out-parameters: iovec (2 words), nread, fd, and a filestat (64 bytes).
const scratch = memory.data(128, 16);

// The last I/O error, for a message that names the path.
export let ioError: string = "";

function preopenName(fd: u32): string | null {
  if (fd_prestat_get(fd, changetype<prestat>(scratch)) != errno.SUCCESS) return null;
  if (load<u8>(scratch) != preopentype.DIR) return null;
  const len = load<usize>(scratch, sizeof<usize>());
  const buf = new ArrayBuffer(<i32>len);
  if (fd_prestat_dir_name(fd, changetype<usize>(buf), len) != errno.SUCCESS) return null;
  // Some runtimes count a trailing NUL in the name.
  let n = <i32>len;
  while (n > 0 && load<u8>(changetype<usize>(buf) + n - 1) == 0) n--;
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), n);
}

// Splits `path` into (pre-opened dir fd, path relative to it); fd -1 when no
// pre-opened directory covers it.
function resolve(path: string): i32 {
  // Pre-opened fds are numbered from 3 with no gaps; stop at the first that is not one.
  let best: i32 = -1;
  let bestLen: i32 = -1;
  for (let fd: u32 = 3; fd < 1024; fd++) {
    const name = preopenName(fd);
    if (name === null) break;
    const dir = name as string;
    let covers = false;
    let len = dir.length;
    if (dir == "/" ) covers = path.startsWith("/");
    else if (dir == "." || dir == "./") { covers = !path.startsWith("/"); len = 0; }
    else covers = path == dir || path.startsWith(dir.endsWith("/") ? dir : dir + "/");
    if (covers && len > bestLen) { best = <i32>fd; bestLen = len; }
  }
  resolvedRest = best < 0 ? "" : path.substring(bestLen);
  while (resolvedRest.startsWith("/")) resolvedRest = resolvedRest.substring(1);
  if (resolvedRest.startsWith("./")) resolvedRest = resolvedRest.substring(2);
  if (resolvedRest.length == 0) resolvedRest = ".";
  return best;
}
let resolvedRest: string = "";

function describe(err: errno): string {
  if (err == errno.NOENT) return "no such file";
  if (err == errno.ACCES || err == errno.NOTCAPABLE || err == errno.PERM) return "permission denied";
  if (err == errno.ISDIR) return "is a directory, expected a model file";
  // the shim's errnoToString() names, in errno order, as one string: its switch of 77
  // strings and the shim's process.* that link it are too big for the 150 KiB build
  let at = 0;
  for (let k: u16 = 0; k < err; k++) if ((at = ERRNO_NAMES.indexOf(" ", at) + 1) == 0) return "UNKNOWN";
  const end = ERRNO_NAMES.indexOf(" ", at);
  return ERRNO_NAMES.substring(at, end < 0 ? ERRNO_NAMES.length : end);
}
const ERRNO_NAMES = "SUCCESS TOOBIG ACCES ADDRINUSE ADDRNOTAVAIL AFNOSUPPORT AGAIN ALREADY BADF BADMSG BUSY CANCELED CHILD CONNABORTED CONNREFUSED CONNRESET DEADLK DESTADDRREQ DOM DQUOT EXIST FAULT FBIG HOSTUNREACH IDRM ILSEQ INPROGRESS INTR INVAL IO ISCONN ISDIR LOOP MFILE MLINK MSGSIZE MULTIHOP NAMETOOLONG NETDOWN NETRESET NETUNREACH NFILE NOBUFS NODEV NOENT NOEXEC NOLCK NOLINK NOMEM NOMSG NOPROTOOPT NOSPC NOSYS NOTCONN NOTDIR NOTEMPTY NOTRECOVERABLE NOTSOCK NOTSUP NOTTY NXIO OVERFLOW OWNERDEAD PERM PIPE PROTO PROTONOSUPPORT PROTOTYPE RANGE ROFS SPIPE SRCH STALE TIMEDOUT TXTBSY XDEV NOTCAPABLE";

// Opens a file for reading; returns its fd, or -1 with ioError set.
export function openForReading(path: string): i32 {
  const dirfd = resolve(path);
  if (dirfd < 0) {
    ioError = path + ": not inside a directory the WASI runtime gives access to (pre-open it, e.g. wasmtime --dir)";
    return -1;
  }
  const rel = String.UTF8.encode(resolvedRest);
  const err = path_open(<u32>dirfd, 1 /* follow symlinks */, changetype<usize>(rel), rel.byteLength,
    0, rights.FD_READ | rights.FD_SEEK | rights.FD_FILESTAT_GET, 0, 0, changetype<usize>(scratch));
  if (err != errno.SUCCESS) {
    ioError = path + ": " + describe(err);
    return -1;
  }
  return <i32>load<u32>(scratch);
}

// Size of an open file, or -1 with ioError set.
export function fileSize(fd: i32, path: string): i64 {
  const err = fd_filestat_get(<u32>fd, changetype<filestat>(scratch));
  if (err != errno.SUCCESS) {
    ioError = path + ": " + describe(err);
    return -1;
  }
  return <i64>changetype<filestat>(scratch).size;
}

// Reads up to `len` bytes into `dest`; returns bytes read (0 at end of file) or -1.
export function readSome(fd: i32, dest: usize, len: usize): isize {
  const iov = changetype<iovec>(scratch);
  iov.buf = dest;
  iov.buf_len = len;
  const nreadPtr = changetype<usize>(scratch) + offsetof<iovec>();
  const err = fd_read(<u32>fd, changetype<usize>(scratch), 1, nreadPtr);
  if (err != errno.SUCCESS) {
    ioError = "read failed: " + describe(err);
    return -1;
  }
  return <isize>load<usize>(nreadPtr);
}

// Fills dest[0, len) from the file; false with ioError set on error or early end.
export function readExactly(fd: i32, dest: usize, len: usize, path: string): bool {
  let done: usize = 0;
  while (done < len) {
    const n = readSome(fd, dest + done, len - done);
    if (n < 0) { ioError = path + ": " + ioError; return false; }
    if (n == 0) { ioError = path + ": file ended after " + done.toString() + " of " + len.toString() + " bytes"; return false; }
    done += <usize>n;
  }
  return true;
}

export function closeFd(fd: i32): void {
  fd_close(<u32>fd);
}

// stdout (1) and stderr (2) (a failed write ends the output quietly), and the
// arguments: straight through WASI rather than the shim's process.*, whose error
// paths link a switch of every errno name (too big for the 150 KiB build).
export function write(fd: u32, s: string): void {
  const b = String.UTF8.encode(s);
  const iov = changetype<iovec>(scratch);
  for (let p = changetype<usize>(b), end = p + <usize>b.byteLength; p < end; ) {
    iov.buf = p;
    iov.buf_len = end - p;
    if (fd_write(fd, changetype<usize>(scratch), 1, changetype<usize>(scratch) + offsetof<iovec>()) != errno.SUCCESS) return;
    p += load<usize>(changetype<usize>(scratch) + offsetof<iovec>());
  }
}

export function args(): string[] {
  const out: string[] = [];
  if (args_sizes_get(scratch, scratch + 4) != errno.SUCCESS) return out;
  const n = load<u32>(scratch), size = load<u32>(scratch, 4);
  const ptrs = new ArrayBuffer(<i32>n * 4), data = new ArrayBuffer(<i32>size);
  if (args_get(changetype<usize>(ptrs), changetype<usize>(data)) != errno.SUCCESS) return out;
  for (let i: u32 = 0; i < n; i++) {
    const p = load<u32>(changetype<usize>(ptrs) + (<usize>i << 2));
    let e = p;
    while (load<u8>(e) != 0) e++;
    out.push(String.UTF8.decodeUnsafe(p, e - p));
  }
  return out;
}
