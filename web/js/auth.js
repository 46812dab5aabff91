// Who is signed in, and how to sign in.
// Locally: the stack's DashboardUrl carries `#api=<ApiUrl>&token=<ApiToken>`; both are kept for this tab
// (sessionStorage) and removed from the address bar at once. Deployed, such a link is ignored.
// Deployed: config.json (written by `make deploy`) names the API and the Cognito hosted UI; sign-in is
// OAuth 2.0 authorization code with PKCE, and the ID token (what the API's Cognito authorizer accepts) is
// kept for this tab.

const KEYS = { api: "oms.api", token: "oms.token", expires: "oms.expires", verifier: "oms.pkce", state: "oms.state", route: "oms.route" };

let config = null; // config.json, when the dashboard is deployed

export function session() {
  const expires = Number(sessionStorage.getItem(KEYS.expires) || 0);
  let token = sessionStorage.getItem(KEYS.token) || "";
  if (token && expires && Date.now() > expires) token = ""; // expired: sign in again
  return { api: (sessionStorage.getItem(KEYS.api) || config?.apiUrl || "").replace(/\/+$/, ""), token };
}

/** config.json as `make deploy` wrote it (the API, Cognito, the documents bucket); null locally. */
export function deployedConfig() {
  return config;
}

export function deployedSignIn() {
  return Boolean(config?.cognito?.domain && config?.cognito?.clientId);
}

/** Reads the sign-in the page was opened with; returns the route to show. Call once, before routing. */
export async function start() {
  const fragment = location.hash.slice(1);
  // Deployed (config.json exists), only Cognito signs in: a link carrying #api=...&token=... could point
  // the dashboard at someone else's API, so it is ignored there. The local stack has no config.json.
  config = await loadConfig();
  if (fragment && !fragment.startsWith("/")) {
    const values = new URLSearchParams(fragment);
    if (values.get("token") && !config) {
      sessionStorage.setItem(KEYS.api, values.get("api") || "");
      sessionStorage.setItem(KEYS.token, values.get("token"));
      sessionStorage.removeItem(KEYS.expires);
    }
    // the token must not stay in the address bar, the history or a bookmark
    history.replaceState(null, "", location.pathname + "#/queue");
  }
  if (config) sessionStorage.removeItem(KEYS.api); // deployed: the API is config.json's, never a link's
  const query = new URLSearchParams(location.search);
  if (query.get("code") && deployedSignIn()) {
    await finishSignIn(query.get("code"), query.get("state"));
  } else if (query.get("error")) {
    history.replaceState(null, "", location.pathname + "#/queue");
    throw new Error(`Sign-in failed: ${query.get("error_description") || query.get("error")}`);
  }
}

async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-cache" });
    if (!response.ok) return null; // not deployed: the local stack has no config.json
    return await response.json();
  } catch {
    return null;
  }
}

function redirectUri() {
  return location.origin + location.pathname;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Off to Cognito's hosted UI; it comes back to this page with ?code=...&state=... */
export async function signIn() {
  const verifier = randomString();
  const state = randomString();
  sessionStorage.setItem(KEYS.verifier, verifier);
  sessionStorage.setItem(KEYS.state, state);
  sessionStorage.setItem(KEYS.route, location.hash || "#/queue");
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const url = new URL(`${cognitoDomain()}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.cognito.clientId,
    redirect_uri: redirectUri(),
    scope: "openid email",
    state,
    code_challenge_method: "S256",
    code_challenge: challenge,
  }).toString();
  location.assign(url.toString());
}

function cognitoDomain() {
  const domain = config.cognito.domain.replace(/\/+$/, "");
  return domain.startsWith("https://") ? domain : `https://${domain}`;
}

async function finishSignIn(code, state) {
  const expected = sessionStorage.getItem(KEYS.state);
  const verifier = sessionStorage.getItem(KEYS.verifier);
  const route = sessionStorage.getItem(KEYS.route) || "#/queue";
  sessionStorage.removeItem(KEYS.state);
  sessionStorage.removeItem(KEYS.verifier);
  history.replaceState(null, "", location.pathname + route);
  if (!expected || state !== expected || !verifier) {
    throw new Error("Sign-in could not be completed (the answer from the sign-in page does not match this tab). Sign in again.");
  }
  let response;
  try {
    response = await fetch(`${cognitoDomain()}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: config.cognito.clientId,
        code,
        redirect_uri: redirectUri(),
        code_verifier: verifier,
      }),
    });
  } catch {
    throw new Error("The sign-in service cannot be reached. Check your connection and sign in again.");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || !answer.id_token) {
    throw new Error(`Sign-in failed: ${answer.error_description || answer.error || `the sign-in service answered ${response.status}`}`);
  }
  sessionStorage.setItem(KEYS.token, answer.id_token);
  sessionStorage.setItem(KEYS.expires, String(Date.now() + (Number(answer.expires_in) || 3600) * 1000 - 60_000));
  sessionStorage.removeItem(KEYS.api);
}

/** Forgets this tab's sign-in; deployed, also ends the hosted UI's session. */
export function signOut() {
  for (const key of Object.values(KEYS)) sessionStorage.removeItem(key);
  if (deployedSignIn()) {
    const url = new URL(`${cognitoDomain()}/logout`);
    url.search = new URLSearchParams({ client_id: config.cognito.clientId, logout_uri: redirectUri() }).toString();
    location.assign(url.toString());
  } else {
    location.hash = "#/signed-out";
  }
}
