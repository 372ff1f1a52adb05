// Korean particles chosen by how the word before them is read aloud: a declared port of app/josa.py (the reference;
// its docstring gives the rules), for the catalog templates a component fills in the browser (the explorer's `fmt`,
// app/components/explorer/text.js). tests/browser/test_josa_parity.py runs both on the same words in Chromium.
// Classic-script functions, joined into a component like its other files; each name starts with "josa".

const JOSA_PAIRS = {  // pair as a catalog writes it -> [after a vowel, after ㄹ, after another consonant]
  "은(는)": ["는", "은", "은"], "는(은)": ["는", "은", "은"], "이(가)": ["가", "이", "이"], "가(이)": ["가", "이", "이"],
  "을(를)": ["를", "을", "을"], "를(을)": ["를", "을", "을"], "와(과)": ["와", "과", "과"], "과(와)": ["와", "과", "과"],
  "(으)로": ["로", "로", "으로"], "(이)": ["", "이", "이"],
};
const JOSA_PAIR = new RegExp(Object.keys(JOSA_PAIRS).map((p) => p.replace(/[()]/g, "\\$&")).join("|"), "g");
const JOSA_DIGITS = "영일이삼사오육칠팔구", JOSA_UNITS = ["", "십", "백", "천"], JOSA_MYRIADS = ["", "만", "억", "조", "경", "해"];
const JOSA_LETTERS = {a: "에이", b: "비", c: "씨", d: "디", e: "이", f: "에프", g: "지", h: "에이치", i: "아이", j: "제이",
                      k: "케이", l: "엘", m: "엠", n: "엔", o: "오", p: "피", q: "큐", r: "알", s: "에스", t: "티", u: "유",
                      v: "브이", w: "더블유", x: "엑스", y: "와이", z: "제트"};
const JOSA_SIGNS = {"%": "퍼센트", "%p": "퍼센트포인트", "×": "배", x: "배", px: "픽셀", MP: "메가픽셀", M: "백만", K: "천",
                    k: "천", s: "초", ms: "밀리초", min: "분", h: "시간", MB: "메가바이트", GB: "기가바이트",
                    KB: "킬로바이트", TB: "테라바이트", cm: "센티미터", mm: "밀리미터", km: "킬로미터", kg: "킬로그램"};
const JOSA_CLOSERS = "\"'”’»」』*`";

// port of app/josa.syllable_final
function josaSyllable(ch) {
  const coda = (ch.codePointAt(0) - 0xac00) % 28;
  return coda === 0 ? "vowel" : coda === 8 ? "rieul" : "consonant";
}

// port of app/josa.number_end: the last syllable of a number read in Sino-Korean
function josaNumberEnd(whole, decimals, exponent) {
  if (exponent !== undefined) return josaNumberEnd(exponent.replace(/^[-+]+/, "") || "0");
  if (decimals) return JOSA_DIGITS[Number(decimals[decimals.length - 1])];
  const digits = whole.replace(/,/g, "").replace(/^0+/, "");
  if (!digits) return JOSA_DIGITS[0];
  const zeros = digits.length - digits.replace(/0+$/, "").length;
  if (zeros === 0) return JOSA_DIGITS[Number(digits[digits.length - 1])];
  return zeros < 4 ? JOSA_UNITS[zeros] : JOSA_MYRIADS[Math.min(Math.floor(zeros / 4), JOSA_MYRIADS.length - 1)];
}

// port of app/josa.latin_final
function josaLatin(word) {
  const parts = word.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+/g), last = parts[parts.length - 1], w = last.toLowerCase();
  if (w.length === 1 || !/[aeiouy]/.test(w) || (last === last.toUpperCase() && w.length <= 3)) {
    const name = JOSA_LETTERS[w[w.length - 1]];
    return josaSyllable(name[name.length - 1]);
  }
  if (/(l|le)$/.test(w)) return "rieul";
  if (/(m|n|ng|me|ne)$/.test(w)) return "consonant";
  return /(?:(?:^|[^aeiou])[aeiou](?:ck|[ptkc])|ook|out)$/.test(w) ? "consonant" : "vowel";
}

// port of app/josa.inside_or_before
function josaInsideOrBefore(text) {
  const close = text[text.length - 1], open = close === ")" ? "(" : "[";
  let depth = 0, i = text.length - 1;
  for (; i >= 0; i--) {
    depth += text[i] === close ? 1 : text[i] === open ? -1 : 0;
    if (depth === 0) break;
  }
  if (i < 0) return text.slice(0, -1);
  const before = text.slice(0, i), inside = text.slice(i + 1, -1);
  if (close === ")" && before.endsWith("]")) return before;
  if (close === ")" && before && !/\s/.test(before[before.length - 1])) return before;
  return inside;
}

// port of app/josa.final: "vowel", "rieul", "consonant", or null where the text cannot be read
function josaFinal(text) {
  text = text.trimEnd();
  while (text) {
    const last = text[text.length - 1];
    if (last >= "가" && last <= "힣") return josaSyllable(last);
    if (JOSA_CLOSERS.includes(last)) text = text.slice(0, -1).trimEnd();
    else if (last === ")" || last === "]") text = josaInsideOrBefore(text);
    else break;
  }
  if (!text) return null;
  const sign = text.match(/\d\s?(%p|%|×|[A-Za-z]{1,3})$/);
  if (sign && Object.hasOwn(JOSA_SIGNS, sign[1])) {
    const reading = JOSA_SIGNS[sign[1]];
    return josaSyllable(reading[reading.length - 1]);
  }
  const number = text.match(/(\d(?:[\d,]*\d)?)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/);
  if (number) return josaSyllable(josaNumberEnd(number[1], number[2], number[3]));
  const latin = text.match(/[A-Za-z]+$/);
  return latin ? josaLatin(latin[0]) : null;
}

// port of app/josa.particle: the form of `pair` that follows `word`; the pair itself where `word` cannot be read
function josaParticle(word, pair) {
  const end = josaFinal(word);
  if (end === null) return pair;
  const [head, rest] = pair.startsWith("(이)") ? [pair.slice(0, 3), pair.slice(3)] : [pair, ""];
  return JOSA_PAIRS[head][["vowel", "rieul", "consonant"].indexOf(end)] + rest;
}

// port of app/josa.resolve: every particle pair in `text` chosen by what comes before it
function josaResolve(text) {
  if (!text.includes("(")) return text;
  let out = "", done = 0;
  for (const m of text.matchAll(JOSA_PAIR)) {
    const before = out + text.slice(done, m.index);
    if (!before || /\s/.test(before[before.length - 1]) || before.endsWith("}")) continue;
    out += text.slice(done, m.index) + josaParticle(before, m[0]);
    done = m.index + m[0].length;
  }
  return out + text.slice(done);
}
