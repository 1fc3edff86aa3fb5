// Small DOM helpers: elements built from data (never from HTML strings, so nothing the API returns
// can inject markup), times in the reader's zone with UTC on hover.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

const LOCAL_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** A <time> in the reader's zone; the UTC instant on hover. */
export function time(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h("span", {}, iso);
  return h("time", { datetime: date.toISOString(), title: `${date.toISOString().replace(".000Z", "Z")} (UTC)` },
    LOCAL_TIME.format(date));
}

export function badge(text, kind = String(text || "").toLowerCase()) {
  return h("span", { class: `badge badge-${kind.replace(/[^a-z0-9_-]/gi, "")}` }, text ?? "—");
}

/** A JSON value shown as preformatted text. */
export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

/** A definition list of key → value (values may be nodes). */
export function facts(entries) {
  return h("dl", { class: "facts" }, entries.filter(([, value]) => value !== undefined).map(([key, value]) => [
    h("dt", {}, key),
    h("dd", {}, value === null || value === "" ? h("span", { class: "muted" }, "—")
      : value instanceof Node ? value
        : Array.isArray(value) && value.length && value.every((item) => item instanceof Node) ? h("span", {}, value)
          : typeof value === "object" ? json(value) : String(value)),
  ]));
}

/** A placeholder of the final block's size while its data loads (no layout shift). */
export function placeholder(lines = 3, label = "Loading") {
  return h("div", { class: "placeholder", "aria-busy": "true", "aria-label": label },
    Array.from({ length: lines }, () => h("div", { class: "placeholder-line" })));
}

export function section(title, ...children) {
  const id = `section-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), children);
}

/** Parse durations like 14d, 3h, 1d12h, 90m, 30s into seconds; null when not one. */
export function parseDuration(text) {
  const trimmed = String(text || "").trim();
  if (!/^(\d+(\.\d+)?[dhms])+$/.test(trimmed)) return null;
  const units = { d: 86400, h: 3600, m: 60, s: 1 };
  let seconds = 0;
  for (const [, amount, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)([dhms])/g)) seconds += Number(amount) * units[unit];
  return seconds;
}

export function describeSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const parts = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    if (rest >= size) { parts.push(`${Math.floor(rest / size)}${unit}`); rest %= size; }
  }
  return parts.join(" ") || "0s";
}

export function pause(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
