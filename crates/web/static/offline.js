// 离线: loaded by the phone pages. Registers the service worker (sw.js) and sends the
// visits it queued while the network was down: at each page load, when the browser
// comes back online, and every 30 seconds. A queued visit is removed once the server
// has answered it (recorded now or already recorded under the same key); one that the
// server refuses or that meets a signed-out session stays queued and is counted on /my.
"use strict";

(function () {
  if (!("serviceWorker" in navigator) || !("indexedDB" in window)) return;
  const DB = "fupin-offline";
  const QUEUE = "queue";

  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});

  // A visit form served again from the worker's cache would repeat the idempotency key
  // it was first rendered with, and a second visit recorded from it would be taken for
  // a replay of the first. Each load of the form draws its own key instead, as the
  // server does for each form it renders; a resent POST keeps its body, key included.
  const key = document.querySelector("form[action$='/visit'] input[name='key']");
  if (key && window.crypto && crypto.getRandomValues) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    key.value = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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

  function remove(db, id) {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(QUEUE, "readwrite");
      tx.objectStore(QUEUE).delete(id);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }

  function show(count) {
    const el = document.getElementById("offline-queue");
    if (!el) return;
    el.textContent = "待上传的离线走访：" + count + " 条";
    el.dataset.count = String(count);
    el.hidden = count === 0;
  }

  let syncing = false;
  async function sync() {
    if (syncing) return;
    syncing = true;
    let db;
    try {
      db = await openDb();
      for (const item of await all(db)) {
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
        // Recorded (or recorded before under the same key): the server sends the
        // browser on to the household card. Anything else stays queued.
        const landed = new URL(response.url);
        if (response.ok && landed.pathname.startsWith("/my/household/") && !landed.pathname.endsWith("/visit")) {
          await remove(db, item.id);
        }
      }
      show((await all(db)).length);
    } catch (err) {
      // IndexedDB unavailable (private mode): nothing was queued either.
    } finally {
      if (db) db.close();
      syncing = false;
    }
  }

  // Signing out forgets the cached pages: they belong to this user.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.getAttribute("action") === "/logout" && "caches" in window) {
      caches.keys().then((keys) => keys.forEach((k) => caches.delete(k)));
    }
  });

  window.addEventListener("online", sync);
  setInterval(sync, 30000);
  sync();
})();
