// A version 3 file rewritten as a version 1 or 2 writer made it: CONFIG of
// CONFIG_WORDS_V2 words, the rest of the old section left as zero padding. Only a
// file that sets none of version 3's words can be rewritten (checked).
import * as F from "../../assembly/format/constants.ts";
import { crc32 } from "../../host/format/crc32.ts";

export function asOldVersion(bytes: Uint8Array, version: 1 | 2): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  v.setUint32(F.HDR_VERSION, version, true);
  const count = v.getUint32(F.HDR_SECTION_COUNT, true);
  for (let i = 0; i < count; i++) {
    const at = F.HEADER_SIZE + i * F.SECTION_ENTRY_SIZE;
    if (v.getUint32(at + F.SEC_KIND, true) !== F.SECTION_CONFIG) continue;
    const offset = v.getUint32(at + F.SEC_OFFSET, true), words = F.CONFIG_WORDS_V2 * 4;
    for (let j = offset + words; j < offset + F.CONFIG_WORDS * 4; j++) {
      if (out[j] !== 0) throw new Error(`CONFIG word ${(j - offset) >> 2} is set: not expressible in version ${version}`);
    }
    v.setUint32(at + F.SEC_SIZE, words, true);
    v.setUint32(at + F.SEC_CRC, crc32(out.subarray(offset, offset + words)), true);
  }
  v.setUint32(F.HDR_CRC, 0, true);
  v.setUint32(F.HDR_CRC, crc32(out.subarray(0, F.HEADER_SIZE + count * F.SECTION_ENTRY_SIZE)), true);
  return out;
}
