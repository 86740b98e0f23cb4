/**
 * 32-bit FNV-1a over a string's UTF-16 code units, finished with MurmurHash3's `fmix32` so that
 * the low bits (the ones a power-of-two bucket count keeps) are well mixed.
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    h ^= text.charCodeAt(index);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
