// Talking to Bazres from a phone on a bad network: every request has a deadline, every
// failure says whether trying again can help, and retries back off with jitter and honour
// the server's Retry-After (DESIGN §10a).
import { meta } from "./store.js";

// An answer the app can act on: `retry` (the network, a 5xx, a 429/503), `auth` (log in
// again: the outbox stays), or neither (the server refused; retrying the same is useless).
export class RequestFailed extends Error {
  constructor(message, { status = 0, problem = null, retryAfterMs = null, network = false, headers = null } = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.problem = problem;
    this.retryAfterMs = retryAfterMs;
    this.network = network;
  }

  get retry() {
    return this.network || this.status >= 500 || this.status === 429 || this.status === 408;
  }

  get auth() {
    return this.status === 401;
  }

  get code() {
    return (this.problem?.type || "").split("/").pop();
  }
}

// `Retry-After` is seconds or an HTTP date.
export function retryAfterMs(header, now = Date.now()) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const when = Date.parse(header);
  return Number.isNaN(when) ? null : Math.max(0, when - now);
}

// Full jitter (AWS's "exponential backoff and jitter"): a random wait up to base·2^n,
// capped, never shorter than what the server asked for.
export function backoffMs(attempt, { base = 1000, cap = 60000, serverAsked = null, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, serverAsked ?? 0);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function token() {
  return (await meta.get("session"))?.token ?? null;
}

// One request. `body`: an object (sent as JSON) or a Blob/ArrayBuffer (sent as is).
export async function request(method, path, { body, headers = {}, timeoutMs = 30000, auth = true } = {}) {
  const all = { Accept: "application/json", ...headers };
  if (auth) {
    const bearer = await token();
    if (bearer) all.Authorization = `Bearer ${bearer}`;
  }
  let payload = body;
  if (body !== undefined && !(body instanceof Blob) && !(body instanceof ArrayBuffer)) {
    all["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(path, { method, headers: all, body: payload, signal: controller.signal,
      cache: "no-store" });
  } catch (error) {
    throw new RequestFailed(error.name === "AbortError" ? "timed out" : "network", { network: true });
  } finally {
    clearTimeout(timer);
  }
  if (response.ok) return response;
  let problem = null;
  try {
    problem = await response.json();
  } catch { /* not JSON: a proxy's page, a cut answer */ }
  throw new RequestFailed(problem?.detail || problem?.title || `HTTP ${response.status}`, {
    status: response.status, problem, retryAfterMs: retryAfterMs(response.headers.get("Retry-After")),
    headers: response.headers,
  });
}

export async function json(method, path, options) {
  const response = await request(method, path, options);
  try {
    return response.status === 204 || method === "HEAD" ? null : await response.json();
  } catch {
    // The head came and the body broke off: as good as no answer at all.
    throw new RequestFailed("answer cut off", { network: true });
  }
}

// `call()` again while it fails in a way worth retrying, up to `attempts` times.
export async function withRetries(call, { attempts = 6, onWait = () => {}, base = 1000, cap = 60000 } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call(attempt);
    } catch (error) {
      if (!(error instanceof RequestFailed) || !error.retry || attempt + 1 >= attempts) throw error;
      const wait = backoffMs(attempt, { base, cap, serverAsked: error.retryAfterMs });
      onWait(wait, error);
      await sleep(wait);
    }
  }
}
