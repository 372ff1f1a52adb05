// What a component is sent as base64 (numpy's bytes, app/components/explorer/__init__.py and lens/__init__.py, b64):
// the bytes, float32 arrays, and a colour scale as 256 RGB triples. Joined before the files that read them.

function bytes(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
const floats = (b64) => new Float32Array(bytes(b64).buffer);

function lut(b64) {  // a colour scale as 256 RGB triples (app/components/__init__.py, lut)
  const b = bytes(b64), out = [];
  for (let i = 0; i < 256; i++) out.push([b[3 * i], b[3 * i + 1], b[3 * i + 2]]);
  return out;
}
