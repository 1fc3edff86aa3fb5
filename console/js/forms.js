// Forms built from JSON schemas (a signal's payload, a lifecycle's start input) as the OpenAPI
// document describes them: one control per property, typed, required ones marked; the API's 422
// details shown next to the fields they name.

import { h } from "./dom.js";

/** The schema a $ref names in the OpenAPI document (refs followed, "X or null" unwrapped). */
export function resolve(openapi, schema) {
  let current = schema || {};
  for (let depth = 0; depth < 10 && current.$ref; depth += 1) {
    const name = current.$ref.split("/").pop();
    current = openapi.components?.schemas?.[name] || {};
  }
  const options = current.anyOf || current.oneOf;
  if (options) {
    const concrete = options.filter((option) => option.type !== "null");
    if (concrete.length === 1) return { ...resolve(openapi, concrete[0]), nullable: true, description: current.description, default: current.default };
  }
  return current;
}

let formCount = 0;

/**
 * Controls for an object schema; answers {element, read(), showErrors(details)}: read() gives the
 * payload (empty optional fields left out) or throws naming the field that is not valid.
 */
export function schemaFields(openapi, schemaRef) {
  const schema = resolve(openapi, schemaRef);
  const properties = schema.properties || {};
  const required = new Set(schema.required || []);
  const prefix = `field-${(formCount += 1)}`;
  const controls = {};
  const errors = {};
  const rows = Object.entries(properties).map(([name, raw]) => {
    const property = resolve(openapi, raw);
    const id = `${prefix}-${name}`;
    const control = controlFor(property, id, name, required.has(name));
    controls[name] = { control, property };
    errors[name] = h("span", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
    control.setAttribute("aria-describedby", `${id}-error ${id}-help`);
    return h("div", { class: "field" },
      h("label", { for: id }, name, required.has(name) ? h("span", { class: "required", title: "required" }, " *") : null),
      control,
      h("span", { class: "help", id: `${id}-help` }, hint(property)),
      errors[name]);
  });
  const element = h("div", { class: "schema-fields" },
    rows.length ? rows : h("p", { class: "muted" }, "No payload."));

  function read() {
    const payload = {};
    for (const [name, { control, property }] of Object.entries(controls)) {
      const value = valueOf(control, property, name);
      if (value !== undefined) payload[name] = value;
      else if (required.has(name)) throw new FieldError(name, "required");
    }
    return payload;
  }

  function showErrors(details = []) {
    for (const [name, box] of Object.entries(errors)) {
      box.textContent = "";
      controls[name].control.removeAttribute("aria-invalid");
    }
    for (const detail of details) {
      const name = String(detail.field || "").replace(/^payload\./, "").split(".")[0];
      if (errors[name]) {
        errors[name].textContent = detail.message || "not valid";
        controls[name].control.setAttribute("aria-invalid", "true");
      }
    }
  }

  return { element, read, showErrors, empty: rows.length === 0 };
}

export class FieldError extends Error {
  constructor(field, message) { super(`${field}: ${message}`); this.field = field; this.detail = { field, message }; }
}

function hint(property) {
  const parts = [];
  if (property.description) parts.push(property.description);
  if (property.type === "array" && resolvedItemsAreStrings(property)) parts.push("one per line");
  else if (property.type === "array" || (property.type === "object" && !property.properties)) parts.push("JSON");
  if (property.format === "date-time") parts.push("your local time");
  return parts.join("; ");
}

function resolvedItemsAreStrings(property) {
  return property.items && property.items.type === "string";
}

function controlFor(property, id, name, isRequired) {
  const common = { id, name, required: isRequired };
  if (Array.isArray(property.enum)) {
    return h("select", common, !isRequired && h("option", { value: "" }, "—"),
      property.enum.map((value) => h("option", { value, selected: value === property.default }, value)));
  }
  switch (property.type) {
    case "boolean":
      return h("input", {
        ...common, type: "checkbox", required: false, checked: property.default === true,
        onchange: (event) => { event.currentTarget.dataset.touched = "true"; },
      });
    case "integer":
    case "number":
      return h("input", {
        ...common, type: "number", step: property.type === "integer" ? "1" : "any",
        min: property.minimum ?? property.exclusiveMinimum, max: property.maximum ?? property.exclusiveMaximum,
        value: property.default,
      });
    case "array":
    case "object":
      return h("textarea", { ...common, rows: 3 });
    default:
      if (property.format === "date-time") return h("input", { ...common, type: "datetime-local", step: 1 });
      if (property.format === "date") return h("input", { ...common, type: "date" });
      if ((property.maxLength || 0) > 200) return h("textarea", { ...common, rows: 3, maxlength: property.maxLength });
      return h("input", {
        ...common, type: "text", maxlength: property.maxLength, minlength: property.minLength,
        pattern: property.pattern ? property.pattern.replace(/^\^|\$$/g, "") : undefined,
        value: typeof property.default === "string" ? property.default : undefined, autocomplete: "off",
      });
  }
}

function valueOf(control, property, name) {
  if (property.type === "boolean" && !Array.isArray(property.enum)) return control.checked ? true : (control.dataset.touched ? false : undefined);
  const text = control.value.trim();
  if (text === "") return undefined;
  if (Array.isArray(property.enum)) return text;
  if (property.type === "integer" || property.type === "number") {
    const number = Number(text);
    if (Number.isNaN(number)) throw new FieldError(name, "not a number");
    return number;
  }
  if (property.type === "array" && resolvedItemsAreStrings(property)) return text.split("\n").map((line) => line.trim()).filter(Boolean);
  if (property.type === "array" || property.type === "object") {
    try { return JSON.parse(text); } catch { throw new FieldError(name, "not JSON"); }
  }
  if (property.format === "date-time") return new Date(text).toISOString();
  return text;
}
