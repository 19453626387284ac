// Small DOM and formatting helpers shared by the views.

// el('div', {class: 'x', 'data-id': 7, onclick: fn}, 'text', child) -> HTMLElement.
// Attributes whose value is null, undefined or false are left out; true sets an empty attribute.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      node.className = value;
    } else if (name in node && typeof value !== 'string' && name !== 'list') {
      node[name] = value;  // properties such as value, checked, hidden
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

// SVG elements need their namespace.
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs))
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// Text with <mark>s over the highlighted ranges. The server gives byte ranges into the UTF-8
// text (docs/query.md, explain evidence), not JavaScript string offsets.
export function highlighted(text, ranges) {
  const frag = document.createDocumentFragment();
  if (!text) return frag;
  if (!Array.isArray(ranges) || ranges.length === 0) {
    frag.append(text);
    return frag;
  }
  const bytes = new TextEncoder().encode(text);
  const dec = new TextDecoder();
  let at = 0;
  const sorted = ranges.filter((r) => Array.isArray(r) && r.length === 2).sort((a, b) => a[0] - b[0]);
  for (const [b, e] of sorted) {
    if (b < at || e > bytes.length || b >= e) continue;
    if (b > at) frag.append(dec.decode(bytes.subarray(at, b)));
    frag.append(el('mark', {}, dec.decode(bytes.subarray(b, e))));
    at = e;
  }
  if (at < bytes.length) frag.append(dec.decode(bytes.subarray(at)));
  return frag;
}

// 75.3 -> "1:15.3"; 8 -> "0:08".
export function fmtTime(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
  const tenths = Math.round(Math.max(0, seconds) * 10);
  const m = Math.floor(tenths / 600);
  const rest = (tenths - m * 600) / 10;
  const sec = Number.isInteger(rest) ? String(rest).padStart(2, '0') : rest.toFixed(1).padStart(4, '0');
  return `${m}:${sec}`;
}

export function fmtScore(score) {
  if (typeof score !== 'number') return '';
  if (score === 0) return '0';
  const a = Math.abs(score);
  return a >= 100 ? score.toFixed(0) : a >= 1 ? score.toFixed(2) : score.toPrecision(3);
}

export function fmtBytes(n) {
  if (typeof n !== 'number') return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function fmtDate(iso) {
  if (typeof iso !== 'string' || !iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

// A point id as the server gives it (a string or an unsigned integer) -> the text for URLs.
export function idText(id) {
  return typeof id === 'number' ? String(id) : id;
}

export function sameId(a, b) {
  return a !== undefined && a !== null && idText(a) === idText(b);
}

// localStorage, tolerating a browser that refuses it (private mode, quota).
export const store = {
  get(key, fallback) {
    try {
      const v = localStorage.getItem(`mosaic.${key}`);
      return v === null ? fallback : JSON.parse(v);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(`mosaic.${key}`, JSON.stringify(value));
    } catch {
      // Storage is a convenience here; the UI works without it.
    }
  },
};

// A file -> its content as base64 (without the data: prefix).
export function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error || new Error(`cannot read ${file.name}`));
    reader.onload = () => {
      const s = String(reader.result);
      resolve(s.slice(s.indexOf(',') + 1));
    };
    reader.readAsDataURL(file);
  });
}

// The kinds a point can be (docs/ingest.md) -> a short label used where there is no thumbnail.
export const kindGlyph = {
  image: 'IMG', face: 'FACE', video: 'VIDEO', shot: 'SHOT', audio: 'AUDIO', speech: 'SPEECH',
  document: 'DOC', chunk: 'TEXT', qa: 'Q&A',
};

// Whether keyboard input currently goes to a text field (then global shortcuts stay quiet).
export function typingIn(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  if (target.tagName !== 'INPUT') return false;
  return !['checkbox', 'radio', 'button', 'submit', 'range', 'file', 'reset'].includes(target.type);
}

export function announce(text) {
  const live = document.getElementById('live');
  if (live) live.textContent = text;
}
