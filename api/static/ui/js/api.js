// The API client: the token, JSON calls, optional routes, and jobs followed to their end.
//
// The token lives in sessionStorage only: it survives a reload of this tab and is gone when the
// tab closes; other sites cannot read it (same-origin) and the strict CSP forbids injected script.

const TOKEN_KEY = "syncq.token";
const FINISHED = new Set(["SUCCESS", "FAILURE"]);

export const auth = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); },
};

/** An API error: `status` and the body's `message`. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** Log in; keeps the token and returns it, or throws ApiError with the server's message. */
export async function login(username, password) {
  const body = await call("/auth/login", { method: "POST", body: { username, password }, anonymous: true });
  auth.set(body.access_token);
  return body.access_token;
}

/** Log out: the server ends the account's tokens (POST /auth/logout), then this tab forgets its own. */
export async function logout() {
  try {
    await call("/auth/logout", { method: "POST" });
  } catch {
    // Already ended, or the API is away: the token is forgotten here all the same.
  }
  auth.clear();
}

/** Call the API: JSON in and out, the bearer token attached; 401 logs out. Returns the body. */
export async function call(path, { method = "GET", body, headers = {}, anonymous = false, raw = false } = {}) {
  // "no-cache": the public reads may be kept by caches for a minute; this page always asks the
  // server again, which answers 304 (from its versions) when the browser's copy is current.
  const init = { method, cache: "no-cache", headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (!anonymous && auth.token) init.headers.Authorization = `Bearer ${auth.token}`;
  let response;
  try {
    response = await fetch(path, init);
  } catch (exc) {
    throw new ApiError(0, `The API cannot be reached (${exc.message})`);
  }
  if (raw) return response;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text.slice(0, 200) }; }
  if (response.status === 401 && !anonymous) {
    auth.clear();
    window.dispatchEvent(new CustomEvent("syncq:logout", { detail: "Your session has ended; log in again." }));
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.message) || `${response.status} ${response.statusText}`, data);
  }
  return data;
}

let documented = null;

/** Does this server have the route (an OpenAPI path such as "/api/students/{handle}/stats")?
 *  Features not merged on every server are looked up in /openapi.json, not probed (a probe's 404
 *  would be a console error on every page). */
export async function hasRoute(path) {
  if (!documented) {
    documented = call("/openapi.json", { anonymous: true }).then((doc) => new Set(Object.keys(doc.paths || {})), () => new Set());
  }
  return (await documented).has(path);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Start a sync (POST `path`) and follow its job to the end. `onProgress(job)` sees each poll.
 * With `Prefer: respond-async` the server answers 202 and the job at once (older servers always
 * do); a server that answers 200 has already finished and sent the result body.
 * Resolves with `{state, result, error, job_id}`; never throws for a failed sync, only for a refused one.
 */
export async function runJob(path, { onProgress = () => {}, signal = null, body } = {}) {
  let response;
  try {
    response = await call(path, { method: "POST", body, headers: { Prefer: "respond-async" }, raw: true });
  } catch (exc) {
    return { state: "FAILURE", error: exc.message };
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    auth.clear();
    window.dispatchEvent(new CustomEvent("syncq:logout", { detail: "Your session has ended; log in again." }));
  }
  if (response.status === 200) return { state: "SUCCESS", result: data };
  if (response.status !== 202) return { state: "FAILURE", error: data.message || `HTTP ${response.status}`, result: data };
  return followJob(data.job_id, { onProgress, signal, first: data });
}

/** Poll `GET /jobs/<id>` until the job ends (or `signal` aborts). */
export async function followJob(jobId, { onProgress = () => {}, signal = null, first = null } = {}) {
  let job = first || { job_id: jobId, state: "PENDING" };
  let delay = 250;
  onProgress(job);
  while (!FINISHED.has(job.state)) {
    if (signal && signal.aborted) return job;
    await sleep(delay);
    delay = Math.min(delay * 1.3, 1000);
    try {
      job = await call(`/jobs/${encodeURIComponent(jobId)}`);
    } catch (exc) {
      if (exc.status === 401 || exc.status === 404) return { state: "FAILURE", error: exc.message, job_id: jobId };
      continue; // a blip (503) while polling: try again
    }
    onProgress(job);
  }
  return job;
}

export const isFinished = (state) => FINISHED.has(state);
