// Every call to the API: the signed-in token, and the API's error turned into words.
import { session } from "./auth.js";

export class ApiError extends Error {
  constructor(message, { status = 0, code = "", details = [] } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The route does not exist in this API (an older stack). */
  get missingRoute() {
    return this.status === 404 && /^no route /.test(this.apiMessage || "");
  }
}

export const NOT_SIGNED_IN =
  "You are not signed in. Locally, open the DashboardUrl that `make run` prints (it is also in .oms/outputs.json); deployed, use Sign in.";

/**
 * call("/orders", {query: {status: "Unshipped"}}) -> the JSON answer.
 * format "text" returns {status, text, contentType}; a 202 returns {accepted: true, status, ...body};
 * `answered(status)` hears the HTTP status of a successful answer (201 made, 200 a replayed POST).
 */
export async function call(path, { method = "GET", query, body, format = "json", headers = {}, answered } = {}) {
  const { api, token } = session();
  if (!token) throw new ApiError(NOT_SIGNED_IN, { status: 401, code: "NotSignedIn" });
  const search = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v !== null && v !== undefined)) : null;
  const url = `${api}${path}${search && String(search) ? `?${search}` : ""}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(
      `The API at ${api || "(no address)"} cannot be reached: the stack may be stopped or your connection down. Try again in a moment.`,
      { code: "NetworkError" },
    );
  }
  if (!response.ok) throw await errorFrom(response, method, path);
  answered?.(response.status);
  if (format === "text" && response.status !== 202) {
    return { status: response.status, text: await response.text(), contentType: response.headers.get("Content-Type") || "" };
  }
  const answer = await response.json().catch(() => null);
  if (answer === null && response.status !== 204) {
    throw new ApiError(`The API answered ${method} ${path} with something that is not JSON.`, { status: response.status });
  }
  return response.status === 202 ? { accepted: true, status: 202, ...answer } : answer;
}

async function errorFrom(response, method, path) {
  const answer = await response.json().catch(() => null);
  const error = answer && typeof answer.error === "object" ? answer.error : null;
  const apiMessage = error?.message || (typeof answer?.message === "string" ? answer.message : "");
  let message;
  if (response.status === 401) {
    message = `Your sign-in has expired or is not valid (${apiMessage || "401"}). Open the dashboard link again, or sign in.`;
  } else if (response.status === 404 && /^no route /.test(apiMessage)) {
    message = `This API does not offer ${method} ${path.split("?")[0]} yet: the stack may need updating.`;
  } else if (apiMessage) {
    message = sentence(apiMessage);
  } else {
    message = `The API answered ${method} ${path.split("?")[0]} with ${response.status} ${response.statusText}`.trim() + ".";
  }
  const failure = new ApiError(message, { status: response.status, code: error?.code || "", details: error?.details || [] });
  failure.apiMessage = apiMessage;
  return failure;
}

function sentence(text) {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** Every page of a list, up to `maxPages` (never the whole table: callers pass a bound). */
export async function pages(path, query, maxPages) {
  const items = [];
  let nextToken = null;
  for (let page = 0; page < maxPages; page += 1) {
    const answer = await call(path, { query: { ...query, nextToken } });
    items.push(...answer.items);
    nextToken = answer.nextToken;
    if (!nextToken) break;
  }
  return { items, nextToken };
}
