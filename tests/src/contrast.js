// WCAG 2.2 contrast of every visible piece of text on the page, measured in
// the real webview from computed styles: the text colour over the
// background it is painted on (backgrounds of the element and its
// ancestors composited, alpha included). Returns what falls below 4.5:1
// (3:1 for large text: ≥ 24 px, or ≥ 18.66 px bold). Disabled controls are
// exempt (WCAG 1.4.3). A colour it cannot read counts as a failure, never
// as a pass. Reports element paths and colours, never the text.
const done = arguments[arguments.length - 1];
// rgb()/rgba() (0–255 or %), color(srgb r g b / a) (0–1); alpha as a
// number or a percentage. Anything else: null.
const parse = (c) => {
  const num = (s, scale) => (s.endsWith("%") ? (parseFloat(s) / 100) * scale : parseFloat(s));
  let m = c.match(/^rgba?\(([^)]+)\)$/);
  let scale = 255;
  if (!m) {
    m = c.match(/^color\(srgb ([^)]+)\)$/);
    scale = 1;
  }
  if (!m) return null;
  const p = m[1].split(/[ ,/]+/).filter((s) => s.length);
  if (p.length < 3) return null;
  const k = 255 / scale;
  const out = {
    r: num(p[0], scale) * k,
    g: num(p[1], scale) * k,
    b: num(p[2], scale) * k,
    a: p.length > 3 ? num(p[3], 1) : 1,
  };
  return [out.r, out.g, out.b, out.a].every(Number.isFinite) ? out : null;
};
const over = (top, under) => {
  const a = top.a + under.a * (1 - top.a);
  if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
  const mix = (x, y) => (x * top.a + y * under.a * (1 - top.a)) / a;
  return { r: mix(top.r, under.r), g: mix(top.g, under.g), b: mix(top.b, under.b), a };
};
const lum = (c) => {
  const f = (v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const ratio = (a, b) => {
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
// The background under `el`: its own and its ancestors' colours, each with
// the opacity of its element and of that element's ancestors, composited
// from the canvas up. null if one cannot be read.
const background = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (!c) return null;
    let opacity = 1;
    for (let a = e; a; a = a.parentElement) opacity *= Number(getComputedStyle(a).opacity);
    const layer = { ...c, a: c.a * opacity };
    if (layer.a > 0) layers.push(layer);
    if (layer.a >= 1) break;
  }
  let bg = { r: 255, g: 255, b: 255, a: 1 }; // the canvas
  for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  return bg;
};
const path = (el) => {
  const parts = [];
  for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
    let p = e.tagName.toLowerCase();
    if (e.id) p += "#" + e.id;
    else if (typeof e.className === "string" && e.className.trim()) p += "." + e.className.trim().split(/\s+/).join(".");
    parts.unshift(p);
  }
  return parts.join(" > ");
};
const failures = [];
let checked = 0;
for (const el of document.body.querySelectorAll("*")) {
  if (el.tagName === "OPTION") continue; // measured as its select's text
  const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim().length > 0);
  const textInput = el.tagName === "INPUT" && !["hidden", "checkbox", "radio", "range", "color", "file"].includes(el.type);
  const field = (textInput && (el.value || el.placeholder)) || (el.tagName === "TEXTAREA" && (el.value || el.placeholder)) || el.tagName === "SELECT";
  if (!hasText && !field) continue;
  const style = getComputedStyle(el);
  if (style.visibility !== "visible" || el.getClientRects().length === 0) continue;
  if (el.closest("[hidden]") || el.closest("[aria-hidden=true]")) continue;
  if (el.closest(":disabled") || el.closest("[aria-disabled=true]")) continue;
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
  if (opacity === 0) continue;
  const bg = background(el);
  // An empty field shows its placeholder, in the placeholder's colour.
  const placeholder = (textInput || el.tagName === "TEXTAREA") && !el.value && el.placeholder;
  const colour = placeholder ? getComputedStyle(el, "::placeholder").color : style.color;
  const fg0 = parse(colour);
  if (!bg || !fg0) {
    failures.push(`${path(el)}: colour not readable (${colour} on ${getComputedStyle(el).backgroundColor})`);
    continue;
  }
  const fg = over({ ...fg0, a: fg0.a * opacity }, bg);
  const size = parseFloat(style.fontSize);
  const bold = Number(style.fontWeight) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  const need = large ? 3 : 4.5;
  const r = ratio(fg, bg);
  checked++;
  if (!(r >= need)) {
    const hex = (c) => "#" + [c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
    failures.push(`${path(el)}: ${r.toFixed(2)}:1 (${hex(fg)} on ${hex(bg)}, needs ${need}:1)`);
  }
}
done({ checked, failures });
