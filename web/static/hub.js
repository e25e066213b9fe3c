// The model hub page: browse, search and download the models stored on this server.
//
// Everything the page shows follows from its URL (?q=&owner=&page=&model=owner/name), so any
// view can be linked, reloaded, or reached with the back button. Every API request goes
// through getJSON(), which turns the API's {"error": {"code", "message"}} answers (and
// network failures) into a message shown on the page. Data from the server is put into the
// page with textContent only, never as HTML.

const PAGE_SIZE = 20;
// Keys that look like metrics are the ones worth showing in the list of models.
const METRIC_KEY = /acc|loss|f1|auc|precision|recall|score|metric|perplexity|error|epoch/i;
const LIST_METADATA_ENTRIES = 3;
const LIST_VALUE_CHARS = 40;
// Above this many tensors a version's tensor table starts folded.
const OPEN_TENSOR_TABLE = 12;

class ApiError extends Error {
  constructor(message, status = null, code = null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// ------------------------------------------------------------------------------- the API

async function getJSON(path, signal) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(`Cannot reach the server (${error.message}).`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): reported below with the HTTP status.
  }
  if (!response.ok) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status, body?.error?.code ?? null);
  }
  if (body === null) throw new ApiError(`The server did not answer ${path} with JSON.`);
  return body;
}

const segment = encodeURIComponent;

function listModels({ q, owner, page }, signal) {
  const query = new URLSearchParams({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  if (q) query.set("q", q);
  if (owner) query.set("owner", owner);
  return getJSON(`/api/models?${query}`, signal);
}

function getModel(owner, name, signal) {
  return getJSON(`/api/models/${segment(owner)}/${segment(name)}`, signal);
}

function fileURL(owner, name, version) {
  return `/api/models/${segment(owner)}/${segment(name)}/versions/${segment(version)}/file`;
}

// ------------------------------------------------------------------------------- the URL

function readState() {
  const params = new URLSearchParams(window.location.search);
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  return {
    q: (params.get("q") ?? "").trim(),
    owner: (params.get("owner") ?? "").trim(),
    page: Number.isFinite(page) && page > 0 ? page : 1,
    model: (params.get("model") ?? "").trim(),
  };
}

// Slashes stay readable in links (?model=alice/mnist): they are allowed in a query string.
function stateHref({ q = "", owner = "", page = 1, model = "" }) {
  const pairs = [];
  const add = (key, value) => {
    pairs.push(`${key}=${encodeURIComponent(value).replaceAll("%2F", "/")}`);
  };
  if (q) add("q", q);
  if (owner) add("owner", owner);
  if (page > 1) add("page", String(page));
  if (model) add("model", model);
  return pairs.length ? `?${pairs.join("&")}` : window.location.pathname;
}

function navigate(state, { replace = false } = {}) {
  const href = stateHref(state);
  if (replace) window.history.replaceState(null, "", href);
  else window.history.pushState(null, "", href);
  render();
}

// ------------------------------------------------------------------------------- building DOM

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "testid") node.dataset.testid = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A link to another view of this page: followed without reloading (see the click handler).
function navLink(state, ...children) {
  return el("a", { href: stateHref(state), "data-nav": true }, ...children);
}

function formatTime(value) {
  if (value === null || value === undefined || value === "") return el("span", {}, "—");
  // Numbers are Unix times, in seconds or in milliseconds.
  const date =
    typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  if (Number.isNaN(date.getTime())) return el("span", {}, String(value));
  const text = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" })
    .format(date);
  return el("time", { datetime: date.toISOString(), title: date.toISOString() }, text);
}

function formatBytes(size) {
  if (typeof size !== "number") return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

function formatScalar(value) {
  if (typeof value === "number" && !Number.isInteger(value)) {
    return String(Number(value.toPrecision(4)));
  }
  return String(value);
}

// Metadata values are strings (safetensors' __metadata__); some hold JSON (metrics, the
// architecture). Returns the parsed object/array, or null when the value is plain text.
function parseJSONValue(value) {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

// The few metadata entries worth a glance in the list: metric-like keys first, flattening
// one level of JSON objects ({"metrics": "{\"accuracy\": 0.97}"} -> metrics.accuracy), and
// skipping long values such as an architecture description.
function summarizeMetadata(metadata) {
  const entries = [];
  for (const [key, value] of Object.entries(metadata ?? {})) {
    const parsed = parseJSONValue(value);
    if (parsed && !Array.isArray(parsed)) {
      for (const [inner, innerValue] of Object.entries(parsed)) {
        if (innerValue === null || typeof innerValue !== "object") {
          entries.push([`${key}.${inner}`, formatScalar(innerValue)]);
        }
      }
    } else if (!parsed) {
      const number = Number(value);
      entries.push([key, value !== "" && Number.isFinite(number) ? formatScalar(number) : value]);
    }
  }
  const short = entries.filter(([, value]) => String(value).length <= LIST_VALUE_CHARS);
  const metrics = short.filter(([key]) => METRIC_KEY.test(key));
  const others = short.filter(([key]) => !METRIC_KEY.test(key));
  return [...metrics, ...others].slice(0, LIST_METADATA_ENTRIES);
}

function metadataTable(metadata) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return el("p", { class: "muted" }, "No metadata.");
  const rows = entries.map(([key, value]) => {
    const parsed = parseJSONValue(value);
    const cell = parsed ? el("pre", { class: "json" }, JSON.stringify(parsed, null, 2)) : value;
    return el("tr", {}, el("th", { scope: "row" }, key), el("td", {}, cell));
  });
  return el(
    "table",
    { class: "table table-kv" },
    el("caption", { class: "visually-hidden" }, "Metadata"),
    el("tbody", {}, rows),
  );
}

function tensorTable(tensors) {
  const entries = Object.entries(tensors ?? {});
  if (entries.length === 0) return el("p", { class: "muted" }, "No tensors listed.");
  let elements = 0;
  const rows = entries.map(([name, { dtype, shape }]) => {
    elements += (shape ?? []).reduce((a, b) => a * b, 1);
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, el("code", {}, name)),
      el("td", {}, dtype),
      el("td", {}, el("code", {}, `[${(shape ?? []).join(", ")}]`)),
    );
  });
  const count = `${entries.length} tensor${entries.length === 1 ? "" : "s"}`;
  return el(
    "details",
    { open: entries.length <= OPEN_TENSOR_TABLE },
    el("summary", {}, `Tensors: ${count}, ${elements.toLocaleString()} elements`),
    el(
      "table",
      { class: "table" },
      el(
        "thead",
        {},
        el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "dtype"),
          el("th", { scope: "col" }, "Shape")),
      ),
      el("tbody", {}, rows),
    ),
  );
}

// ------------------------------------------------------------------------------- the views

const $ = (id) => document.getElementById(id);

function showError(error) {
  const box = $("error");
  const code = error.code ? `, ${error.code}` : "";
  const status = error.status ? ` (HTTP ${error.status}${code})` : "";
  box.replaceChildren(el("strong", {}, "Error: "), `${error.message}${status}`);
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").replaceChildren();
}

function modelRow(model, state) {
  const label = `${model.owner}/${model.name}`;
  const versions = Array.isArray(model.versions) ? model.versions.length : model.versions;
  const tags = summarizeMetadata(model.metadata).map(([key, value]) =>
    el("span", { class: "tag" }, `${key} `, el("b", {}, value)),
  );
  return el(
    "tr",
    { testid: "model-row" },
    el("th", { scope: "row" }, navLink({ ...state, model: label }, label)),
    el("td", { class: "num" }, model.latest_version ?? "—"),
    el("td", { class: "num" }, versions ?? "—"),
    el("td", {}, formatTime(model.updated_at)),
    el("td", { class: "tags" }, tags.length ? tags : el("span", { class: "muted" }, "—")),
  );
}

async function showList(state, signal) {
  $("model-detail").hidden = true;
  $("list-view").hidden = false;
  document.title = "Model hub";
  const status = $("list-status");
  status.textContent = "Loading models…";

  const { models, total } = await listModels(state, signal);
  const table = $("model-list");
  table.tBodies[0].replaceChildren(...models.map((model) => modelRow(model, state)));
  table.hidden = models.length === 0;

  const filtered = state.q || state.owner;
  const first = (state.page - 1) * PAGE_SIZE + 1;
  if (total === 0 && !filtered) {
    status.textContent = "This hub has no models yet. Push one with engine.hub.push(...).";
  } else if (total === 0) {
    status.textContent = "No models match this search.";
  } else if (models.length === 0) {
    status.replaceChildren(
      `Page ${state.page} is past the end (${total} models). `,
      navLink({ ...state, page: 1 }, "Go to the first page"),
    );
  } else {
    const last = first + models.length - 1;
    const what = filtered ? "matching models" : "models";
    status.textContent = `${first}–${last} of ${total} ${what}, newest first.`;
  }

  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  $("pager").hidden = pages <= 1;
  // From a page past the end, "Newer" leads to the last page.
  const previous = Math.min(state.page - 1, pages);
  setPagerLink($("pager-prev"), previous >= 1 ? { ...state, page: previous } : null);
  setPagerLink($("pager-next"), state.page < pages ? { ...state, page: state.page + 1 } : null);
  $("pager-info").textContent = `Page ${state.page} of ${pages}`;
}

function setPagerLink(link, state) {
  if (state) {
    link.href = stateHref(state);
    link.dataset.nav = "";
    link.removeAttribute("aria-disabled");
  } else {
    link.removeAttribute("href");
    delete link.dataset.nav;
    link.setAttribute("aria-disabled", "true");
  }
}

function versionCard(model, version) {
  const { owner, name } = model;
  const sha = version.sha256 ?? "";
  const pull = `engine.hub.pull("${owner}/${name}", version=${version.version})`;
  return el(
    "article",
    { class: "version", testid: "version-row", "aria-labelledby": `v${version.version}` },
    el(
      "header",
      { class: "version-header" },
      el("h3", { id: `v${version.version}` }, `Version ${version.version}`),
      el(
        "a",
        {
          class: "button",
          href: fileURL(owner, name, version.version),
          download: `${owner}-${name}-v${version.version}.safetensors`,
          testid: "download",
        },
        "Download",
      ),
    ),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Created"),
      el("dd", {}, formatTime(version.created_at)),
      el("dt", {}, "Size"),
      el("dd", {}, formatBytes(version.size)),
      el("dt", {}, "sha256"),
      el(
        "dd",
        {},
        el("code", { title: sha }, sha.slice(0, 12)),
        // The rest of the hash, for screen readers and for copying the whole of it.
        el("span", { class: "visually-hidden" }, sha.slice(12)),
      ),
      el("dt", {}, "Load it"),
      el("dd", {}, el("code", {}, pull)),
    ),
    el("h4", {}, "Metadata"),
    metadataTable(version.metadata),
    tensorTable(version.tensors),
  );
}

async function showModel(state, signal) {
  $("list-view").hidden = true;
  const detail = $("model-detail");
  detail.hidden = false;
  $("back-link").href = stateHref({ ...state, model: "" });
  $("back-link").dataset.nav = "";
  const heading = $("detail-heading");
  heading.textContent = state.model;
  document.title = `${state.model} · Model hub`;
  $("detail-summary").textContent = "Loading…";
  $("versions").replaceChildren();

  const slash = state.model.indexOf("/");
  if (slash <= 0 || slash === state.model.length - 1) {
    $("detail-summary").textContent = "";
    throw new ApiError(`"${state.model}" is not a model name: expected owner/name.`);
  }
  let model;
  try {
    model = await getModel(state.model.slice(0, slash), state.model.slice(slash + 1), signal);
  } catch (error) {
    $("detail-summary").textContent = "";
    throw error;
  }
  const versions = [...(model.versions ?? [])].sort((a, b) => b.version - a.version);
  $("detail-summary").replaceChildren(
    `${versions.length} version${versions.length === 1 ? "" : "s"} · created `,
    formatTime(model.created_at),
    " · updated ",
    formatTime(model.updated_at),
  );
  $("versions").replaceChildren(...versions.map((version) => versionCard(model, version)));
  if (versions.length === 0) {
    $("versions").append(el("p", { class: "muted" }, "This model has no versions."));
  }
}

// ------------------------------------------------------------------------------- wiring

let inFlight = null;

async function render() {
  inFlight?.abort();
  inFlight = new AbortController();
  const { signal } = inFlight;
  const state = readState();
  // Leave the boxes alone while they already say the same (a trailing space being typed).
  if ($("search-q").value.trim() !== state.q) $("search-q").value = state.q;
  if ($("search-owner").value.trim() !== state.owner) $("search-owner").value = state.owner;
  clearError();
  try {
    if (state.model) await showModel(state, signal);
    else await showList(state, signal);
  } catch (error) {
    if (error.name === "AbortError") return;
    if (!state.model) $("list-status").textContent = "The list of models could not be loaded.";
    showError(error);
  }
}

function readForm() {
  return { q: $("search-q").value.trim(), owner: $("search-owner").value.trim(), page: 1 };
}

function start() {
  const form = $("search-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(readForm());
  });
  // Search as you type, without filling the history with every keystroke.
  let timer = null;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => navigate(readForm(), { replace: true }), 300);
  });

  // Links between views of this page change the URL without reloading; a click with a
  // modifier key (new tab, new window) is left to the browser.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-nav]");
    if (!link || !link.href || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    window.history.pushState(null, "", link.href);
    render().then(() => {
      const target = readState().model ? $("detail-heading") : $("list-status");
      target.setAttribute("tabindex", "-1");
      target.focus();
    });
  });
  window.addEventListener("popstate", render);
  render();
}

start();
