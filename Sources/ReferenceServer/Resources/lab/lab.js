// The dice lab: exact odds of an expression or of a check, as a chart, and sample rolls, all
// through the server's API. No library, no build step; text from the server is only ever set
// as text, never as HTML.
"use strict";

const TEXTS = {
  en: {
    title: "Dice lab", language: "Language", signin: "Sign in", username: "Username", password: "Password", signinButton: "Sign in",
    expressionTitle: "A dice expression", expression: "Expression", oddsButton: "Exact odds", seed: "Seed", rollButton: "Sample roll",
    checkTitle: "A check from a pack", pack: "Pack", check: "Check", dc: "Difficulty", advantage: "Advantage", none: "none",
    withAdvantage: "advantage", withDisadvantage: "disadvantage", values: "The character's values", sources: "Items, conditions and feats to try",
    checkButton: "Odds of each outcome", footer: "Exact odds from the engine; every request goes through the server's API.",
    summary: "mean {mean}, standard deviation {stddev}, from {min} to {max}", total: "total", seedUsed: "seed {seed}",
    reach: "Chance to reach the difficulty: {without} without them, {with} with them", delta: "{sign}{points} points",
    withoutLabel: "without", withLabel: "with the chosen items", noSources: "(none chosen)",
  },
  es: {
    title: "Laboratorio de dados", language: "Idioma", signin: "Iniciar sesión", username: "Usuario", password: "Contraseña", signinButton: "Entrar",
    expressionTitle: "Una expresión de dados", expression: "Expresión", oddsButton: "Probabilidades exactas", seed: "Semilla", rollButton: "Tirada de muestra",
    checkTitle: "Una prueba de un paquete", pack: "Paquete", check: "Prueba", dc: "Dificultad", advantage: "Ventaja", none: "ninguna",
    withAdvantage: "con ventaja", withDisadvantage: "con desventaja", values: "Los valores del personaje", sources: "Objetos, estados y dotes que probar",
    checkButton: "Probabilidad de cada resultado", footer: "Probabilidades exactas del motor; cada petición pasa por la API del servidor.",
    summary: "media {mean}, desviación típica {stddev}, de {min} a {max}", total: "total", seedUsed: "semilla {seed}",
    reach: "Probabilidad de alcanzar la dificultad: {without} sin ellos, {with} con ellos", delta: "{sign}{points} puntos",
    withoutLabel: "sin", withLabel: "con los objetos elegidos", noSources: "(ninguno elegido)",
  },
  fr: {
    title: "Labo de dés", language: "Langue", signin: "Connexion", username: "Nom d'utilisateur", password: "Mot de passe", signinButton: "Se connecter",
    expressionTitle: "Une expression de dés", expression: "Expression", oddsButton: "Probabilités exactes", seed: "Graine", rollButton: "Jet d'exemple",
    checkTitle: "Un test d'un pack", pack: "Pack", check: "Test", dc: "Difficulté", advantage: "Avantage", none: "aucun",
    withAdvantage: "avec avantage", withDisadvantage: "avec désavantage", values: "Les valeurs du personnage", sources: "Objets, états et dons à essayer",
    checkButton: "Probabilité de chaque issue", footer: "Probabilités exactes du moteur ; chaque requête passe par l'API du serveur.",
    summary: "moyenne {mean}, écart type {stddev}, de {min} à {max}", total: "total", seedUsed: "graine {seed}",
    reach: "Chance d'atteindre la difficulté : {without} sans eux, {with} avec eux", delta: "{sign}{points} points",
    withoutLabel: "sans", withLabel: "avec les objets choisis", noSources: "(aucun choisi)",
  },
};

const state = { token: null, language: "en", catalog: null };
const $ = (id) => document.getElementById(id);

function text(key, values = {}) {
  let result = (TEXTS[state.language] || TEXTS.en)[key] || TEXTS.en[key] || key;
  for (const [name, value] of Object.entries(values)) result = result.replaceAll(`{${name}}`, String(value));
  return result;
}

function percent(probability) {
  return new Intl.NumberFormat(state.language, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(probability);
}

function number(value, digits = 2, minimum = 0) {
  return new Intl.NumberFormat(state.language, { minimumFractionDigits: minimum, maximumFractionDigits: digits }).format(value);
}

function translatePage() {
  document.documentElement.lang = state.language;
  for (const element of document.querySelectorAll("[data-text]")) element.textContent = text(element.dataset.text);
}

/// A call to the API: JSON in and out, in the chosen language; a problem becomes an Error
/// with the problem's localized detail (and the fields at fault).
async function api(method, path, body) {
  const headers = { "Accept-Language": state.language, "Accept": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const fields = (data.errors || []).map((error) => `${error.field}: ${error.message}`).join("; ");
    throw new Error([data.detail || data.title || `HTTP ${response.status}`, fields].filter(Boolean).join(" — "));
  }
  return data;
}

function svg(tag, attributes = {}, content) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (content !== undefined) element.textContent = content;
  return element;
}

/// A bar chart of a distribution: one bar per value, its height the probability.
function drawDistribution(container, distribution) {
  container.replaceChildren();
  const width = 900, height = 260, left = 48, bottom = 28, top = 10;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  const maximum = Math.max(...distribution.map((outcome) => outcome.probability));
  const slot = (width - left - 10) / distribution.length;
  const labelEvery = Math.max(1, Math.ceil(distribution.length / 24));
  for (let tick = 0; tick <= 4; tick += 1) {
    const y = top + (height - top - bottom) * (1 - tick / 4);
    chart.append(svg("line", { x1: left, x2: width - 10, y1: y, y2: y, stroke: "#e3e6ec" }));
    chart.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, percent((maximum * tick) / 4)));
  }
  distribution.forEach((outcome, index) => {
    const barHeight = ((height - top - bottom) * outcome.probability) / maximum;
    const x = left + index * slot;
    const bar = svg("rect", { x: x + slot * 0.1, y: height - bottom - barHeight, width: Math.max(1, slot * 0.8), height: barHeight });
    bar.append(svg("title", {}, `${outcome.value}: ${percent(outcome.probability)}`));
    chart.append(bar);
    if (index % labelEvery === 0) chart.append(svg("text", { x: x + slot / 2, y: height - 10, "text-anchor": "middle" }, outcome.value));
  });
  container.append(chart);
}

/// The outcome bands of a check, without and with the chosen sources, side by side.
function drawBands(container, without, withSources, names) {
  container.replaceChildren();
  const rowHeight = 44, width = 900, left = 190;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${without.bands.length * rowHeight + 10}`, role: "img" });
  without.bands.forEach((band, index) => {
    const other = withSources.bands.find((candidate) => candidate.id === band.id) || { probability: 0 };
    const y = index * rowHeight + 5;
    const scale = width - left - 90;
    chart.append(svg("text", { x: 0, y: y + 22, class: "label" }, names[band.id] || band.id));
    chart.append(svg("rect", { x: left, y, width: Math.max(1, scale * band.probability), height: 16, class: "without" }));
    chart.append(svg("text", { x: left + scale * band.probability + 6, y: y + 12 }, `${percent(band.probability)} · ${text("withoutLabel")}`));
    chart.append(svg("rect", { x: left, y: y + 19, width: Math.max(1, scale * other.probability), height: 16, class: "with" }));
    chart.append(svg("text", { x: left + scale * other.probability + 6, y: y + 31 }, `${percent(other.probability)} · ${text("withLabel")}`));
  });
  container.append(chart);
}

function showRoll(container, roll) {
  container.replaceChildren();
  const dice = roll.result.dice || [];
  for (const die of dice) {
    const element = document.createElement("span");
    element.className = die.kept === false ? "die dropped" : "die";
    element.textContent = (die.faces || [die.value]).join("→");
    element.title = die.die;
    container.append(element);
  }
  const total = document.createElement("span");
  total.className = "total";
  total.textContent = `${text("total")} ${roll.total}`;
  const seed = document.createElement("span");
  seed.className = "seed";
  seed.textContent = ` (${text("seedUsed", { seed: roll.seed })})`;
  container.append(total, seed);
}

async function expressionOdds() {
  $("expression-error").textContent = "";
  try {
    const odds = await api("POST", "/v1/odds", { expression: $("expression").value });
    drawDistribution($("chart"), odds.distribution);
    $("expression-summary").textContent = text("summary", {
      mean: number(odds.mean), stddev: number(odds.stddev), min: odds.min, max: odds.max,
    });
  } catch (error) {
    $("expression-error").textContent = error.message;
  }
}

async function sampleRoll() {
  $("expression-error").textContent = "";
  try {
    const body = { expression: $("expression").value };
    if ($("seed").value.trim() !== "") body.seed = $("seed").value.trim();
    showRoll($("roll"), await api("POST", "/v1/sample-rolls", body));
  } catch (error) {
    $("expression-error").textContent = error.message;
  }
}

function selectedPack() {
  const [id, version] = $("pack").value.split("@");
  return { id, version };
}

async function loadPacks() {
  const packs = await api("GET", "/v1/packs");
  const select = $("pack");
  const previous = select.value;
  select.replaceChildren();
  for (const pack of packs.items) {
    const option = document.createElement("option");
    option.value = `${pack.id}@${pack.version}`;
    option.textContent = `${pack.title} (${pack.version})`;
    select.append(option);
  }
  if (previous) select.value = previous;
  // The pack that requires the others, where there is one, shows the most.
  if (!previous && packs.items.length) select.value = `${packs.items[packs.items.length - 1].id}@${packs.items[packs.items.length - 1].version}`;
  await loadCatalog();
}

async function loadCatalog() {
  const { id, version } = selectedPack();
  if (!id) return;
  const response = await api("GET", `/v1/packs/${encodeURIComponent(id)}/${encodeURIComponent(version)}/catalog?lang=${state.language}`);
  state.catalog = response.catalogs[state.language];
  const checkSelect = $("check");
  const previousCheck = checkSelect.value;
  checkSelect.replaceChildren();
  for (const check of state.catalog.checks) {
    const option = document.createElement("option");
    option.value = check.id;
    option.textContent = check.name;
    checkSelect.append(option);
  }
  if (previousCheck) checkSelect.value = previousCheck;
  const previousValues = Object.fromEntries([...document.querySelectorAll("#stats input")].map((input) => [input.dataset.id, input.value]));
  const stats = $("stats");
  stats.replaceChildren();
  for (const stat of [...state.catalog.stats, ...state.catalog.skills]) {
    const label = document.createElement("label");
    const name = document.createElement("span");
    name.textContent = stat.name;
    const input = document.createElement("input");
    input.type = "number";
    input.dataset.id = stat.id;
    input.value = previousValues[stat.id] ?? stat.default;
    if (stat.minimum !== undefined) input.min = stat.minimum;
    if (stat.maximum !== undefined) input.max = stat.maximum;
    label.append(name, input);
    stats.append(label);
  }
  const chosen = new Set([...document.querySelectorAll("#sources input:checked")].map((input) => input.value));
  const sources = $("sources");
  sources.replaceChildren();
  for (const source of state.catalog.sources) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = source.id;
    box.checked = chosen.has(source.id);
    const name = document.createElement("span");
    name.textContent = source.name;
    name.title = source.description || "";
    label.append(box, name);
    sources.append(label);
  }
}

async function checkOdds() {
  $("check-error").textContent = "";
  try {
    const stats = {};
    for (const input of document.querySelectorAll("#stats input")) stats[input.dataset.id] = Number(input.value);
    const apply = [...document.querySelectorAll("#sources input:checked")].map((input) => input.value);
    const base = {
      packs: [selectedPack()], stats, check: $("check").value, dc: Number($("dc").value), advantage: $("advantage").value,
    };
    const [without, withSources] = await Promise.all([api("POST", "/v1/odds", base), api("POST", "/v1/odds", { ...base, apply })]);
    const check = state.catalog.checks.find((candidate) => candidate.id === $("check").value);
    const names = Object.fromEntries((check ? check.bands : []).map((band) => [band.id, band.name]));
    drawBands($("bands"), without, withSources, names);
    const points = (withSources.reach - without.reach) * 100;
    const comparison = $("comparison");
    comparison.replaceChildren(text("reach", { without: percent(without.reach), with: percent(withSources.reach) }) + " ");
    const delta = document.createElement("span");
    delta.className = points > 0 ? "delta up" : points < 0 ? "delta down" : "delta";
    delta.textContent = apply.length
      ? `(${text("delta", { sign: points > 0 ? "+" : points < 0 ? "−" : "±", points: number(Math.abs(points), 1, 1) })})`
      : text("noSources");
    comparison.append(delta);
  } catch (error) {
    $("check-error").textContent = error.message;
  }
}

async function signIn(event) {
  event.preventDefault();
  $("signin-error").textContent = "";
  try {
    const tokens = await api("POST", "/v1/auth/login", { username: $("username").value, password: $("password").value });
    state.token = tokens.access_token;
    $("password").value = "";
    $("signin").hidden = true;
    $("lab").hidden = false;
    await loadPacks();
    await expressionOdds();
  } catch (error) {
    $("signin-error").textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const preferred = (navigator.language || "en").slice(0, 2);
  state.language = TEXTS[preferred] ? preferred : "en";
  $("language").value = state.language;
  translatePage();
  $("signin-form").addEventListener("submit", signIn);
  $("odds-button").addEventListener("click", expressionOdds);
  $("roll-button").addEventListener("click", sampleRoll);
  $("check-button").addEventListener("click", checkOdds);
  $("pack").addEventListener("change", () => loadCatalog().catch((error) => { $("check-error").textContent = error.message; }));
  $("language").addEventListener("change", async () => {
    state.language = $("language").value;
    translatePage();
    if (state.token) {
      await loadCatalog().catch((error) => { $("check-error").textContent = error.message; });
      await expressionOdds();
    }
  });
});
