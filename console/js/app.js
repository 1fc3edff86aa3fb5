// The console's shell: configuration, identity, navigation and the router. Each page is a module of
// js/pages/ with a render(app, params, query) that fills <main>; every page has its own URL (hash).

import { Api, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { CognitoIdentity, GROUPS, LocalIdentity } from "./identity.js";
import * as batches from "./pages/batches.js";
import * as localPage from "./pages/local.js";
import * as operations from "./pages/operations.js";
import * as workflow from "./pages/workflow.js";
import * as workflows from "./pages/workflows.js";

const ROUTES = [
  { pattern: /^workflows\/(.+)$/, page: workflow, names: ["workflowId"] },
  { pattern: /^workflows$/, page: workflows },
  { pattern: /^batches\/(.+)$/, page: batches, names: ["batchId"], operators: true },
  { pattern: /^batches$/, page: batches, operators: true },
  { pattern: /^operations$/, page: operations, operators: true },
  { pattern: /^local$/, page: localPage, local: true },
];

class Console {
  constructor(config, identity) {
    this.config = config;
    this.identity = identity;
    this.api = new Api(config.mode === "local" ? location.origin : config.apiUrl, identity);
    this.main = document.getElementById("main");
    this.renders = 0;
    this.cache = new Map();
  }

  get local() { return this.config.mode === "local"; }

  /** A read the pages share (the catalog, the OpenAPI document), fetched once. */
  once(key, load) {
    if (!this.cache.has(key)) this.cache.set(key, load().catch((error) => { this.cache.delete(key); throw error; }));
    return this.cache.get(key);
  }

  /** The lifecycles by type (GET /lifecycles). */
  catalog() {
    return this.once("catalog", async () => {
      const answer = await this.api.get("/lifecycles");
      const list = answer.items || answer.lifecycles || answer;
      return Object.fromEntries(list.map((lifecycle) => [lifecycle.type, lifecycle]));
    });
  }

  openapi() { return this.once("openapi", () => this.api.get("/openapi.json")); }

  /** Whether a page's render is still the one on screen (a later navigation supersedes it). */
  current(token) { return token === this.renders; }

  async render() {
    const token = ++this.renders;
    const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
    const query = new URLSearchParams(search || "");
    const route = ROUTES.find((candidate) => candidate.pattern.test(path || "workflows"));
    this.highlightNavigation(path || "workflows");
    if (!this.identity.signedIn) return this.signInPage();
    if (!route) return replace(this.main, h("h1", {}, "Not found"), h("p", {}, `No page at #/${path}.`));
    if ((route.operators && !this.identity.isOperator) || (route.local && !this.local)) {
      return replace(this.main, h("h1", {}, "Not available"),
        h("p", {}, route.local ? "This page is for the local platform." : "This page is for operators."));
    }
    const match = (path || "workflows").match(route.pattern);
    const params = Object.fromEntries((route.names || []).map((name, index) => [name, decodeURIComponent(match[index + 1])]));
    try {
      await route.page.render(this, params, query, token);
    } catch (error) {
      if (!this.current(token)) return;
      replace(this.main, h("h1", {}, "Something went wrong"), errorBox(error));
    }
    if (this.current(token) && this.navigated) this.focusHeading();
    this.navigated = true;
  }

  focusHeading() {
    const heading = this.main.querySelector("h1");
    if (heading && (document.activeElement === document.body || !this.main.contains(document.activeElement))) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }

  highlightNavigation(path) {
    for (const link of document.querySelectorAll("nav.main-nav a")) {
      const target = link.getAttribute("href").replace(/^#\//, "");
      if (path.split("/")[0] === target) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  renderChrome() {
    // The links are in the page from the start (its header keeps its size); those not offered are hidden.
    for (const link of document.querySelectorAll("nav.main-nav a[data-for]")) {
      link.hidden = link.dataset.for === "operators" ? !this.identity.isOperator : !this.local;
    }
    replace(document.getElementById("identity"), this.identity.kind === "local" ? this.localPicker() : this.signedInAs());
  }

  localPicker() {
    const identity = this.identity;
    const menu = h("details", { class: "identity-menu" });
    const apply = (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      identity.userId = form.elements.userId.value.trim() || "operator";
      identity.groups = GROUPS.filter((group) => form.elements[`group-${group}`].checked);
      identity.save();
      this.cache.clear();
      menu.open = false;
      this.renderChrome();
      this.render();
      this.notify(`Acting as ${identity.userId} (${identity.groups.join(", ") || "no group"})`);
    };
    menu.append(
      h("summary", { "aria-label": `Acting as ${identity.userId} in ${identity.groups.join(", ") || "no group"}: change` },
        `${identity.userId} · ${identity.groups.join(", ") || "no group"}`),
      h("form", { class: "identity-picker", onsubmit: apply, "aria-label": "Who you act as (local)" },
        h("label", { for: "identity-user" }, "User id"),
        h("input", { id: "identity-user", name: "userId", value: identity.userId, autocomplete: "off" }),
        h("fieldset", {}, h("legend", {}, "Groups"),
          GROUPS.map((group) => h("label", { class: "check" },
            h("input", { type: "checkbox", name: `group-${group}`, checked: identity.groups.includes(group) }), group))),
        h("button", { type: "submit", class: "primary" }, "Act as")));
    menu.addEventListener("keydown", (event) => { if (event.key === "Escape") { menu.open = false; menu.querySelector("summary").focus(); } });
    return menu;
  }

  signedInAs() {
    if (!this.identity.signedIn) return h("button", { type: "button", onclick: () => this.identity.signIn() }, "Sign in");
    return h("div", { class: "signed-in" },
      h("span", {}, `${this.identity.userId} (${this.identity.groups.join(", ") || "no group"})`),
      h("button", { type: "button", onclick: () => this.identity.signOut() }, "Sign out"));
  }

  signInPage() {
    replace(this.main, h("h1", {}, "Sign in"),
      this.signInError ? errorBox(this.signInError) : null,
      h("p", {}, "The console acts with your identity in the deployment's user pool."),
      h("button", { type: "button", class: "primary", onclick: () => this.identity.signIn() }, "Sign in with Cognito"));
  }

  notify(message) {
    const toast = document.getElementById("toast");
    replace(toast, message);
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => replace(toast), 6000);
  }
}

/** An API error (or any other) as the page shows it in place: status, code, message, and each detail. */
export function errorBox(error) {
  if (!(error instanceof ApiError)) return h("div", { class: "error", role: "alert" }, String(error.message || error));
  const { error: code, message, details, awaiting } = error.body;
  return h("div", { class: "error", role: "alert" },
    h("p", {}, h("strong", {}, `${error.status || ""} ${code}`), " ", message),
    Array.isArray(awaiting) && h("p", {}, awaiting.length
      ? ["The workflow awaits now: ", awaiting.map((name, index) => [index ? ", " : "", h("code", {}, name)])]
      : "The workflow awaits no signal now."),
    Array.isArray(details) && details.length > 0 && h("ul", {}, details.map((detail) => h("li", {},
      detail.field ? [h("code", {}, detail.field), ": "] : null,
      detail.message || JSON.stringify(detail)))));
}

async function start() {
  let config = { mode: "local" };
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch { /* served without a config: the local platform */ }
  let identity;
  let signInError = null;
  try {
    identity = config.mode === "cognito" ? await CognitoIdentity.load(config) : LocalIdentity.load();
  } catch (error) {
    identity = new CognitoIdentity(config, null);
    signInError = error;
  }
  const app = new Console(config, identity);
  app.signInError = signInError;
  window.accuConsole = app;
  app.renderChrome();
  window.addEventListener("hashchange", () => app.render());
  if (!location.hash) history.replaceState(null, "", "#/workflows");
  await app.render();
  document.body.dataset.ready = "true";
}

start();
