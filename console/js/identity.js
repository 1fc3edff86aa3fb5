// Who calls the API. Locally: a picker for the user id and groups the local platform takes as
// X-User-Id / X-User-Groups (an operator by default, as the CLI). In AWS: Cognito's hosted sign-in,
// authorization code with PKCE, and the ID token on every call (refreshed before it expires).

export const GROUPS = ["applicants", "reviewers", "approvers", "operators"];
const LOCAL_KEY = "accu-console-identity";
const TOKENS_KEY = "accu-console-tokens";
const PENDING_KEY = "accu-console-sign-in";

class Identity {
  constructor(userId, groups) { this.userId = userId; this.groups = groups; }
  get isOperator() { return this.groups.includes("operators"); }
  /** Whether a caller in these groups may do what `allowed` groups may (operators may do anything). */
  may(allowed) { return this.isOperator || (allowed || []).some((group) => this.groups.includes(group)); }
}

export class LocalIdentity extends Identity {
  static load() {
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem(LOCAL_KEY) || "{}"); } catch { saved = {}; }
    const groups = Array.isArray(saved.groups) ? saved.groups.filter((group) => GROUPS.includes(group)) : ["operators"];
    return new LocalIdentity(saved.userId || "operator", groups);
  }
  get kind() { return "local"; }
  save() { localStorage.setItem(LOCAL_KEY, JSON.stringify({ userId: this.userId, groups: this.groups })); }
  async headers() { return { "X-User-Id": this.userId, "X-User-Groups": this.groups.join(",") }; }
  get signedIn() { return true; }
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function claimsOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(payload))));
  } catch { return {}; }
}

export class CognitoIdentity extends Identity {
  constructor(config, tokens) {
    const claims = tokens ? claimsOf(tokens.idToken) : {};
    super(claims.email || claims["cognito:username"] || claims.sub || "", claims["cognito:groups"] || []);
    this.config = config;
    this.tokens = tokens;
  }
  get kind() { return "cognito"; }
  get signedIn() { return Boolean(this.tokens); }

  /** The identity after a possible return from the hosted sign-in (?code=...&state=...). */
  static async load(config) {
    const query = new URLSearchParams(location.search);
    if (query.has("code")) {
      const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
      sessionStorage.removeItem(PENDING_KEY);
      history.replaceState(null, "", `${location.pathname}${pending?.hash || "#/workflows"}`);
      if (!pending || pending.state !== query.get("state")) throw new Error("the sign-in's state does not match: sign in again");
      const tokens = await CognitoIdentity.token(config, {
        grant_type: "authorization_code", code: query.get("code"), redirect_uri: config.redirectUri,
        code_verifier: pending.verifier,
      });
      sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
      return new CognitoIdentity(config, tokens);
    }
    const kept = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || "null");
    return new CognitoIdentity(config, kept);
  }

  static async token(config, form) {
    const response = await fetch(`${config.signInDomain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: config.clientId, ...form }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`sign-in refused: ${body.error || response.status}`);
    return {
      idToken: body.id_token, accessToken: body.access_token,
      refreshToken: body.refresh_token || form.refresh_token,
      expiresAt: Date.now() + (body.expires_in || 3600) * 1000,
    };
  }

  async signIn() {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(48)));
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
    const query = new URLSearchParams({
      response_type: "code", client_id: this.config.clientId, redirect_uri: this.config.redirectUri,
      scope: "openid email profile", code_challenge: challenge, code_challenge_method: "S256", state,
    });
    location.assign(`${this.config.signInDomain}/oauth2/authorize?${query}`);
  }

  signOut() {
    sessionStorage.removeItem(TOKENS_KEY);
    const query = new URLSearchParams({ client_id: this.config.clientId, logout_uri: this.config.redirectUri });
    location.assign(`${this.config.signInDomain}/logout?${query}`);
  }

  async headers() {
    if (!this.tokens) return {};
    if (this.tokens.expiresAt - Date.now() < 60_000 && this.tokens.refreshToken) {
      this.tokens = await CognitoIdentity.token(this.config, {
        grant_type: "refresh_token", refresh_token: this.tokens.refreshToken,
      });
      sessionStorage.setItem(TOKENS_KEY, JSON.stringify(this.tokens));
    }
    return { Authorization: this.tokens.idToken };
  }
}
