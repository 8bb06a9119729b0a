// 离线: loaded by the phone pages. Registers the service worker (sw.js) and sends the
// visits and corrections it queued while the network was down: at each page load, when
// the browser comes back online, and every 30 seconds. A queued item is removed once the
// server has answered it (recorded or flagged for review now, or already under the same
// key). One the server refuses (422 with the reason, 400 a bad form, 403/404 out of
// scope) is kept as stuck with the server's reason and not sent again until the cadre
// retries it on 离线待发 (/my/outbox), or discards it there. One that meets a
// signed-out session or a server error stays queued. Pages show the counts. It also
// keeps 我的农户, 离线待发 and every listed household's card and visit form in the
// worker's cache, so they open offline before they were ever opened online.
//
// The words shown here are not written in this file: the templates render them from the
// message catalogue, in the reader's language, as the data attributes of #offline-texts
// (templates/offline_texts.html). They are also kept in the worker's cache, in the
// language of the page they came from, for the page sw.js answers a form saved offline
// with and for pages that do not carry them; such a page with nothing kept in its
// language reads them once from 离线待发 (/my/outbox), which always carries them.
"use strict";

(function () {
  if (!("serviceWorker" in navigator) || !("indexedDB" in window)) return;
  const DB = "fupin-offline";
  const QUEUE = "queue";
  const CACHE = "fupin-pages-v1"; // sw.js's cache
  const TEXTS = "/offline-texts.json"; // where the words are kept in it, never fetched
  const lang = document.documentElement.lang || "";

  // The words of a page's #offline-texts, by data attribute (data-queue-stuck: queueStuck).
  function textsIn(doc) {
    const el = doc.getElementById("offline-texts");
    return el ? Object.assign({}, el.dataset) : null;
  }

  async function keepTexts(words) {
    const cache = await caches.open(CACHE);
    const body = JSON.stringify({ lang, texts: words });
    await cache.put(TEXTS, new Response(body, { headers: { "Content-Type": "application/json" } }));
  }

  // The words kept in this page's language, else those of 离线待发 (then kept).
  async function fetchTexts() {
    const cache = await caches.open(CACHE);
    const kept = await cache.match(TEXTS);
    const k = kept ? await kept.json() : null;
    if (k && k.texts && k.lang === lang) return k.texts;
    const response = await fetch("/my/outbox", { credentials: "same-origin" });
    if (!response.ok) return null;
    const found = textsIn(new DOMParser().parseFromString(await response.text(), "text/html"));
    if (found) await keepTexts(found);
    return found;
  }

  // Null until known; the lists are drawn again once they are.
  let texts = textsIn(document);
  let shown = null;
  if (texts) {
    keepTexts(texts).catch(() => {});
  } else {
    fetchTexts()
      .then((found) => {
        texts = found;
        if (texts && shown) show(shown);
      })
      .catch(() => {});
  }

  // A message with its {name} placeholders filled in (once: a value is never read again).
  function say(key, args) {
    const message = texts && typeof texts[key] === "string" ? texts[key] : "";
    return message.replace(/\{(\w+)\}/g, (whole, name) => (args && Object.prototype.hasOwnProperty.call(args, name) ? String(args[name]) : whole));
  }

  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});

  // A form served again from the worker's cache would repeat the idempotency key it was
  // first rendered with, and a second record made from it would be taken for a replay
  // of the first. Each load of a form draws its own key instead, as the server does for
  // each form it renders; a resent POST keeps its body, key included.
  const key = document.querySelector("form[action$='/visit'] input[name='key'], form[action$='/change'] input[name='key']");
  if (key && window.crypto && crypto.getRandomValues) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    key.value = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A correction carries what it is about in words, for the outbox (the server ignores it).
  const change = document.querySelector("form[action$='/change']");
  if (change) {
    change.addEventListener("submit", () => {
      const chosen = (name) => {
        const s = change.querySelector("select[name='" + name + "']");
        return s && s.selectedOptions[0] ? s.selectedOptions[0].textContent : "";
      };
      let summary = change.querySelector("input[name='summary']");
      if (!summary) {
        summary = document.createElement("input");
        summary.type = "hidden";
        summary.name = "summary";
        change.appendChild(summary);
      }
      summary.value = chosen("target") + " · " + chosen("field");
    });
  }

  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(QUEUE, { keyPath: "id", autoIncrement: true });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  function all(db) {
    return new Promise((resolve, reject) => {
      const req = db.transaction(QUEUE, "readonly").objectStore(QUEUE).getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  function write(db, action) {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(QUEUE, "readwrite");
      action(tx.objectStore(QUEUE));
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }

  const remove = (db, id) => write(db, (s) => s.delete(id));
  const put = (db, item) => write(db, (s) => s.put(item));

  // The server's reason in a refused answer: the form's error, else the error page's text.
  async function reasonOf(response) {
    let text = "";
    try {
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const el = doc.querySelector("[role='alert']") || doc.querySelector("main .notice p") || doc.querySelector("main p");
      text = el ? el.textContent.trim() : "";
    } catch (err) {
      text = "";
    }
    return say("refusedStatus", { reason: text || say("refused"), status: response.status });
  }

  // Long digit runs (phone or ID numbers typed into a form) are shown masked.
  function masked(text) {
    return String(text).replace(/\d{7,}/g, (d) => d.slice(0, 3) + "*".repeat(d.length - 7) + d.slice(-4));
  }

  function describe(item) {
    const f = new URLSearchParams(item.body || "");
    const hh = (/\/my\/household\/([^/]+)\//.exec(new URL(item.url).pathname) || [])[1] || "";
    if (item.kind === "change") {
      const what = f.get("summary") || f.get("field") || "";
      return {
        title: say("changeTitle", { hh: decodeURIComponent(hh) }),
        detail: say("changeDetail", { what, value: f.get("value") || say("emptyValue"), reason: f.get("reason") || "" }),
      };
    }
    const mode = f.get("mode") === "phone" ? say("modePhone") : say("modeInPerson");
    return {
      title: say("visitTitle", { hh: decodeURIComponent(hh) }),
      detail: say("visitDetail", { date: f.get("visited_on") || "", mode, notes: f.get("notes") || "" }),
    };
  }

  function show(items) {
    shown = items;
    const queued = items.filter((i) => !i.stuck).length;
    const stuck = items.length - queued;
    const el = document.getElementById("offline-queue");
    if (el) {
      el.textContent = say("queue", { count: queued }) + (stuck ? " · " + say("queueStuck", { count: stuck }) : "");
      el.dataset.count = String(queued);
      el.dataset.stuck = String(stuck);
      el.hidden = items.length === 0;
    }
    const list = document.getElementById("outbox");
    if (!list) return;
    list.textContent = "";
    for (const item of items) {
      const d = describe(item);
      const li = document.createElement("li");
      li.className = item.stuck ? "stuck" : "queued";
      li.dataset.id = String(item.id);
      const title = document.createElement("strong");
      title.textContent = d.title;
      const state = document.createElement("span");
      state.className = item.stuck ? "tag due" : "tag";
      state.textContent = item.stuck ? say("stateStuck") : say("stateQueued");
      const detail = document.createElement("p");
      detail.className = "notes";
      detail.textContent = masked(d.detail);
      const when = document.createElement("span");
      when.className = "muted";
      when.textContent = say("savedAt", { at: new Date(item.queuedAt).toLocaleString(lang || undefined) });
      li.append(title, " ", state, " ", when, detail);
      if (item.stuck) {
        const why = document.createElement("p");
        why.className = "error reason";
        why.textContent = masked(item.stuck.reason);
        const retry = document.createElement("button");
        retry.type = "button";
        retry.className = "retry";
        retry.textContent = say("retry");
        retry.addEventListener("click", () => act(item.id, "retry"));
        const drop = document.createElement("button");
        drop.type = "button";
        drop.className = "discard";
        drop.textContent = say("discard");
        drop.addEventListener("click", () => act(item.id, "discard"));
        li.append(why, retry, " ", drop);
      }
      list.appendChild(li);
    }
    list.dataset.loaded = "1";
    const empty = document.getElementById("outbox-empty");
    if (empty) empty.hidden = items.length > 0;
  }

  async function act(id, what) {
    const db = await openDb();
    try {
      const item = (await all(db)).find((i) => i.id === id);
      if (item && what === "discard") await remove(db, id);
      if (item && what === "retry") {
        delete item.stuck;
        await put(db, item);
      }
      show(await all(db));
    } finally {
      db.close();
    }
    if (what === "retry") sync();
  }

  let syncing = false;
  async function sync() {
    if (syncing) return;
    syncing = true;
    let db;
    try {
      db = await openDb();
      for (const item of await all(db)) {
        if (item.stuck) continue;
        let response;
        try {
          response = await fetch(item.url, {
            method: "POST",
            body: item.body,
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            credentials: "same-origin",
          });
        } catch (err) {
          break; // still offline: try again later
        }
        // Recorded, flagged or recorded before under the same key: the server sends
        // the browser on to the household card.
        const landed = new URL(response.url);
        const onCard = /^\/my\/household\/[^/]+$/.test(landed.pathname);
        if (response.ok && onCard) {
          await remove(db, item.id);
        } else if (response.status >= 400 && response.status < 500 && ![401, 408, 429].includes(response.status)) {
          item.stuck = { status: response.status, reason: await reasonOf(response), at: new Date().toISOString() };
          await put(db, item);
        }
        // Anything else (signed out, a server error) stays queued for the next round.
      }
      show(await all(db));
    } catch (err) {
      // IndexedDB unavailable (private mode): nothing was queued either.
    } finally {
      if (db) db.close();
      syncing = false;
    }
  }

  // 我的农户 offline before any card was opened: the list, 离线待发, and each listed
  // household's card and visit form go into the worker's cache (the first 60; at most
  // every ten minutes, so a busy list is not fetched at every page).
  const PRECACHED = "/precached.json"; // when it was last done, never fetched
  let signingOut = false; // set by the sign-out form: nothing more goes into the cache
  async function precache() {
    if (!("caches" in window)) return;
    const cache = await caches.open(CACHE);
    const last = await cache.match(PRECACHED);
    const at = last ? (await last.json()).at : 0;
    if (Date.now() - at < 10 * 60 * 1000) return;
    const keep = async (path) => {
      if (signingOut) return null;
      const r = await fetch(path, { credentials: "same-origin" });
      // A page fetched while signing out is not kept: it belongs to the old session.
      if (!r.ok || r.redirected || signingOut) return null;
      await cache.put(path, r.clone());
      return r;
    };
    const list = await keep("/my");
    if (!list) return;
    await keep("/my/outbox");
    const doc = new DOMParser().parseFromString(await list.text(), "text/html");
    const cards = Array.from(doc.querySelectorAll("a[href^='/my/household/']"), (a) => a.getAttribute("href"));
    for (const card of Array.from(new Set(cards.filter((h) => /^\/my\/household\/[^/]+$/.test(h)))).slice(0, 60)) {
      await keep(card);
      await keep(card + "/visit");
    }
    if (signingOut) return;
    await cache.put(PRECACHED, new Response(JSON.stringify({ at: Date.now() }), { headers: { "Content-Type": "application/json" } }));
  }
  if (navigator.onLine !== false) precache().catch(() => {});

  // Signing out forgets the cached pages and the queue: they belong to this user (the
  // server's answer says so too, with Clear-Site-Data).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.getAttribute("action") === "/logout") {
      signingOut = true;
      // The worker keeps no answer to a request that was under way before this.
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "signed-out" });
      }
      if ("caches" in window) caches.keys().then((keys) => keys.forEach((k) => caches.delete(k)));
      if ("indexedDB" in window) indexedDB.deleteDatabase(DB);
    }
  });

  window.addEventListener("online", sync);
  setInterval(sync, 30000);
  sync();
})();
