// 离线: the service worker of the phone pages (我的农户, the household card, 记录走访,
// 记录更正, 离线待发).
//
// Pages under /my and the static files are fetched from the network first and kept in
// a cache, which answers when the network fails. A visit or correction form posted
// without network is kept in IndexedDB (its URL and fields, with the idempotency key
// and, for a correction, the household version the form carries) and answered with a
// page saying so; offline.js sends it when the server answers again. The server acts
// once per key, so sending twice is harmless; a correction whose household changed
// meanwhile is flagged for review on the server, never written over.
//
// The words of that page are not written here: offline.js keeps those of the last page
// it ran on (rendered from the message catalogue in the reader's language) in this
// worker's cache under TEXTS, with the page's language.
"use strict";

const CACHE = "fupin-pages-v1";
const DB = "fupin-offline";
const QUEUE = "queue";
const TEXTS = "/offline-texts.json"; // kept by offline.js, never fetched
const PRECACHE = ["/static/app.css", "/static/offline.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Sign-outs seen (offline.js posts one as the sign-out form is sent): an answer to a
// request begun before one is not put into the cache.
let signOuts = 0;
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "signed-out") signOuts += 1;
});

function cacheable(url) {
  return url.origin === self.location.origin && (url.pathname === "/my" || url.pathname.startsWith("/my/") || url.pathname.startsWith("/static/"));
}

// "visit" or "change" for a form the phone may queue, else null.
function queueKind(url) {
  if (url.origin !== self.location.origin) return null;
  const m = /^\/my\/household\/[^/]+\/(visit|change)$/.exec(url.pathname);
  return m ? m[1] : null;
}

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(QUEUE, { keyPath: "id", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function enqueue(item) {
  const db = await openDb();
  await new Promise((resolve, reject) => {
    const tx = db.transaction(QUEUE, "readwrite");
    tx.objectStore(QUEUE).add(item);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

// Network first; a good answer replaces the cached copy, a failed fetch is answered
// from the cache. Redirects (to /login when signed out) are never kept.
async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  const started = signOuts;
  try {
    const response = await fetch(request);
    // A page that was under way when its user signed out belongs to the old session.
    if (response.ok && !response.redirected && response.type === "basic" && started === signOuts) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw err;
  }
}

function escapeHtml(text) {
  const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => entities[c]);
}

// The page that says a form was saved offline, in the words and language offline.js
// kept; without them (nothing ran offline.js yet), the cached 离线待发, which lists it.
async function queuedPage() {
  const cache = await caches.open(CACHE);
  let kept = null;
  try {
    const r = await cache.match(TEXTS);
    kept = r ? await r.json() : null;
  } catch (err) {
    kept = null;
  }
  if (!kept || !kept.texts) {
    const outbox = await cache.match("/my/outbox", { ignoreVary: true });
    if (outbox) return outbox.text();
  }
  const t = (kept && kept.texts) || {};
  const e = (key, otherwise) => escapeHtml(t[key] || otherwise || "");
  return `<!doctype html>
<html lang="${escapeHtml(kept && kept.lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e("queuedTitle")} · ${e("appName")}</title><link rel="stylesheet" href="/static/app.css"></head>
<body><header class="bar"><a class="brand" href="/my">${e("appName")}</a></header>
<main><div class="notice" role="status" id="queued"><p>${e("queuedNotice", "\u2713")}</p></div>
<p><a href="/my">${e("back", "/my")}</a></p></main>
<script src="/static/offline.js"></script></body></html>`;
}

// A visit or correction form posted by the page: sent on if the network answers, else
// queued.
async function postQueueable(request, kind) {
  const body = await request.clone().text();
  try {
    return await fetch(request);
  } catch (err) {
    await enqueue({ url: request.url, body, kind, queuedAt: new Date().toISOString() });
    return new Response(await queuedPage(), { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const kind = queueKind(url);
  if (request.method === "POST" && request.mode === "navigate" && kind) {
    event.respondWith(postQueueable(request, kind));
  } else if (request.method === "GET" && cacheable(url)) {
    event.respondWith(networkFirst(request));
  }
  // Anything else (the replays offline.js sends included) goes to the network as is.
});
