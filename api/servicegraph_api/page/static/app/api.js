// Calls to the servicegraph API: the key, errors, and the event stream.
//
// The key lives in sessionStorage (this tab only) and goes out as
// `Authorization: Bearer <key>`. A 401 asks for a key and retries the call.

const KEY = "servicegraph.apiKey";

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

let asking = null; // one key prompt at a time, however many calls got a 401

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

/** Show the key dialog; resolves once a key was entered. */
export function askForKey(message = "") {
  if (asking) return asking;
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  document.getElementById("key-error").textContent = message;
  input.value = "";
  asking = new Promise((resolve) => {
    const done = () => {
      const key = input.value.trim();
      if (dialog.returnValue === "save" && key) {
        sessionStorage.setItem(KEY, key);
        dialog.removeEventListener("close", done);
        asking = null;
        resolve(key);
      } else {
        dialog.showModal(); // a key is needed: keep asking
      }
    };
    dialog.addEventListener("close", done);
  });
  dialog.returnValue = "";
  dialog.showModal();
  input.focus();
  return asking;
}

function headers(extra) {
  const h = new Headers(extra || {});
  const key = storedKey();
  if (key) h.set("Authorization", `Bearer ${key}`);
  return h;
}

/** fetch() with the key; on 401 ask for a key and try again. */
export async function call(path, { method = "GET", body, signal, accept } = {}) {
  for (;;) {
    const init = { method, signal, headers: headers(accept ? { Accept: accept } : {}) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers.set("Content-Type", "application/json");
    }
    const res = await fetch(path, init);
    if (res.status === 401) {
      const had = storedKey();
      forgetKey();
      await askForKey(had ? "That key was refused. Enter another one." : "");
      continue;
    }
    if (!res.ok) {
      let detail = `${res.status} ${res.statusText}`;
      let parsed = null;
      try {
        parsed = await res.json();
        if (typeof parsed.detail === "string") detail = parsed.detail;
      } catch { /* not JSON */ }
      throw new ApiError(res.status, detail, parsed);
    }
    return res;
  }
}

export async function getJson(path, opts) {
  return (await call(path, opts)).json();
}

export async function postJson(path, body, opts = {}) {
  return (await call(path, { ...opts, method: "POST", body })).json();
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((item) => q.append(k, item));
    else q.append(k, String(v));
  }
  return q.toString();
}

/**
 * Read a Server-Sent Events stream with fetch() (EventSource cannot send the
 * Authorization header) and call onEvent(name, data) per event. Resolves when
 * the stream ends; rejects on a network error or when `signal` aborts.
 */
export async function readEvents(path, onEvent, signal) {
  const res = await call(path, { signal, accept: "text/event-stream" });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue; // keep-alive comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = text;
        else if (field === "data") data.push(text);
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}
