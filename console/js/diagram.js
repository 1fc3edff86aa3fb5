// A lifecycle's state diagram, drawn from the catalog (GET /lifecycles): statuses in columns by
// their distance from the initial one, transitions (signals and timeouts) as arrows; the current
// status and the path the workflow took (its history) highlighted.

const NS = "http://www.w3.org/2000/svg";
const NODE_HEIGHT = 34;
const COLUMN_GAP = 64;
const ROW_GAP = 22;
const MARGIN = 16;

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  for (const child of children.flat()) if (child) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

/** The transitions of a lifecycle: {from, to, via, kind} for signals that change status and timeouts that move. */
export function transitions(lifecycle) {
  const edges = [];
  for (const signal of lifecycle.signals || []) {
    if (!signal.target) continue;
    for (const source of signal.sources || []) edges.push({ from: source, to: signal.target, via: signal.name, kind: signal.internal ? "internal" : "signal" });
  }
  for (const timeout of lifecycle.timeouts || []) {
    if (timeout.action === "transition" && timeout.target) edges.push({ from: timeout.status, to: timeout.target, via: `${timeout.name} (timeout)`, kind: "timeout" });
    if (timeout.action === "signal" && timeout.signal) {
      const signal = (lifecycle.signals || []).find((candidate) => candidate.name === timeout.signal);
      if (signal?.target) edges.push({ from: timeout.status, to: signal.target, via: `${timeout.name} (timeout)`, kind: "timeout" });
    }
  }
  return edges;
}

function columns(lifecycle, edges) {
  const depth = { [lifecycle.initialStatus]: 0 };
  const queue = [lifecycle.initialStatus];
  while (queue.length) {
    const status = queue.shift();
    for (const edge of edges) {
      if (edge.from === status && depth[edge.to] === undefined) { depth[edge.to] = depth[status] + 1; queue.push(edge.to); }
    }
  }
  let last = Math.max(0, ...Object.values(depth));
  for (const status of lifecycle.statuses) if (depth[status] === undefined) depth[status] = ++last;
  return depth;
}

/**
 * The diagram as an <svg>. `taken` is the set of "FROM>TO" pairs the workflow went through,
 * `visited` the statuses it was in, `current` its status now.
 */
export function stateDiagram(lifecycle, { current, taken = new Set(), visited = new Set() } = {}) {
  // Boxes as wide as the longest status (12 px monospace: about 7.3 px a character).
  const nodeWidth = Math.max(120, Math.ceil(7.3 * Math.max(...lifecycle.statuses.map((status) => status.length))) + 20);
  const edges = transitions(lifecycle);
  const depth = columns(lifecycle, edges);
  const rows = {};
  const position = {};
  for (const status of lifecycle.statuses) {
    const column = depth[status];
    const row = (rows[column] = (rows[column] ?? -1) + 1);
    position[status] = { x: MARGIN + column * (nodeWidth + COLUMN_GAP), y: MARGIN + row * (NODE_HEIGHT + ROW_GAP) };
  }
  const width = MARGIN * 2 + (Math.max(...Object.values(depth)) + 1) * (nodeWidth + COLUMN_GAP) - COLUMN_GAP;
  const height = MARGIN * 2 + Math.max(...Object.values(rows)) * (NODE_HEIGHT + ROW_GAP) + NODE_HEIGHT + 40;
  const terminal = new Set(lifecycle.terminalStatuses || []);

  const drawn = new Set();
  const arrows = [];
  for (const edge of edges) {
    const key = `${edge.from}>${edge.to}`;
    const from = position[edge.from];
    const to = position[edge.to];
    if (!from || !to || edge.from === edge.to) continue;
    const labels = edges.filter((other) => `${other.from}>${other.to}` === key).map((other) => other.via);
    if (drawn.has(key)) continue;
    drawn.add(key);
    const forward = to.x > from.x;
    let path;
    if (forward) {
      const x1 = from.x + nodeWidth; const y1 = from.y + NODE_HEIGHT / 2;
      const x2 = to.x; const y2 = to.y + NODE_HEIGHT / 2;
      const bend = (x2 - x1) / 2;
      path = `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
    } else {
      // Backwards or within a column: an arc below the boxes.
      const x1 = from.x + nodeWidth / 2; const y1 = from.y + NODE_HEIGHT;
      const x2 = to.x + nodeWidth / 2 + 8; const y2 = to.y + NODE_HEIGHT;
      const drop = 26 + Math.abs(x1 - x2) / 12;
      path = `M ${x1} ${y1} C ${x1} ${Math.max(y1, y2) + drop}, ${x2} ${Math.max(y1, y2) + drop}, ${x2} ${y2}`;
    }
    const isTaken = taken.has(key);
    const kinds = new Set(edges.filter((other) => `${other.from}>${other.to}` === key).map((other) => other.kind));
    arrows.push(svg("path", {
      d: path, class: `edge${isTaken ? " taken" : ""}${kinds.has("timeout") && kinds.size === 1 ? " timeout" : ""}`,
      "marker-end": isTaken ? "url(#arrow-taken)" : "url(#arrow)",
    }, svg("title", {}, `${edge.from} → ${edge.to}: ${labels.join(", ")}`)));
  }

  const nodes = lifecycle.statuses.map((status) => {
    const { x, y } = position[status];
    const classes = ["node", terminal.has(status) ? "terminal" : "", visited.has(status) ? "visited" : "", status === current ? "current" : ""];
    return svg("g", { class: classes.filter(Boolean).join(" "), transform: `translate(${x} ${y})` },
      svg("title", {}, `${status}${status === current ? " (now)" : ""}${terminal.has(status) ? ", terminal" : ""}`),
      svg("rect", { width: nodeWidth, height: NODE_HEIGHT, rx: terminal.has(status) ? 17 : 6 }),
      svg("text", { x: nodeWidth / 2, y: NODE_HEIGHT / 2 + 4, "text-anchor": "middle" }, status));
  });

  const marker = (id) => svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z" }));
  return svg("svg", {
    class: "diagram", viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": `State diagram of ${lifecycle.type}: ${current ? `now ${current}` : ""}`,
  }, svg("defs", {}, marker("arrow"), marker("arrow-taken")), arrows, nodes);
}
