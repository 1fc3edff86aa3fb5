// The REST API, as the console's caller: JSON in and out, the API's error body kept whole so each
// page can show it in place (409 with `awaiting`, 422 with the fields).

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body === "object" && body ? `${status} ${body.error}: ${body.message}` : `${status}`);
    this.status = status;
    this.body = typeof body === "object" && body ? body : { error: "ERROR", message: String(body || status) };
  }
}

export class Api {
  constructor(baseUrl, identity) {
    this.base = baseUrl.replace(/\/$/, "");
    this.identity = identity;
  }

  async call(method, path, { body, query } = {}) {
    const url = new URL(this.base + path, location.href);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const headers = { ...(await this.identity.headers()) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new ApiError(0, { error: "UNREACHABLE", message: `the API at ${this.base} does not answer (${error.message})` });
    }
    const text = await response.text();
    let answer = null;
    try { answer = text ? JSON.parse(text) : null; } catch { answer = text; }
    if (!response.ok) throw new ApiError(response.status, answer);
    return answer;
  }

  get(path, query) { return this.call("GET", path, { query }); }
  post(path, body = {}) { return this.call("POST", path, { body }); }
  delete(path) { return this.call("DELETE", path); }
}
