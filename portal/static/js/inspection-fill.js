// The inspection form on a phone: every answer is saved to the server on its own as the
// auditor goes; without a network it is kept in this browser (IndexedDB) and sent when the
// network is back. Each item carries the revision it was last seen at, so an answer saved
// meanwhile from another device is never silently overwritten (the server refuses, and the
// page shows both). No inline script: the portal's content security policy forbids it.
(() => {
  "use strict";
  const root = document.getElementById("inspection-fill");
  if (!root) return;

  const inspection = root.dataset.inspection;
  const statusBar = root.querySelector("[data-sync-status]");
  const t = (name, values) => {
    let text = root.dataset[name] || "";
    for (const [key, value] of Object.entries(values || {})) text = text.replace(`{${key}}`, value);
    return text;
  };
  let csrf = root.dataset.csrf;
  let syncing = false;
  let retryTimer = null;

  // --- storage: IndexedDB, or localStorage where IndexedDB is not available ----------------
  const DB_NAME = "portal-inspections";
  const STORE = "entries";
  let dbPromise = null;

  function openDb() {
    if (!("indexedDB" in window)) return Promise.resolve(null);
    if (!dbPromise) {
      dbPromise = new Promise((resolve) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => {
          const store = request.result.createObjectStore(STORE, { keyPath: "id" });
          store.createIndex("inspection", "inspection");
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(null);
      });
    }
    return dbPromise;
  }

  const LOCAL_PREFIX = "portal-inspection-entry:";

  async function storePut(entry) {
    const db = await openDb();
    if (!db) {
      const { blob, ...plain } = entry;
      if (!blob) localStorage.setItem(LOCAL_PREFIX + entry.id, JSON.stringify(plain));
      return;
    }
    await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(entry);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }

  async function storeDelete(id) {
    const db = await openDb();
    if (!db) {
      localStorage.removeItem(LOCAL_PREFIX + id);
      return;
    }
    await new Promise((resolve) => {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).delete(id);
      tx.oncomplete = resolve;
      tx.onerror = resolve;
    });
  }

  async function storeAll() {
    const db = await openDb();
    if (!db) {
      const out = [];
      for (let i = 0; i < localStorage.length; i += 1) {
        const key = localStorage.key(i);
        if (key && key.startsWith(LOCAL_PREFIX)) {
          const entry = JSON.parse(localStorage.getItem(key));
          if (entry.inspection === inspection) out.push(entry);
        }
      }
      return out;
    }
    return new Promise((resolve) => {
      const tx = db.transaction(STORE, "readonly");
      const request = tx.objectStore(STORE).index("inspection").getAll(inspection);
      request.onsuccess = () => resolve(request.result || []);
      request.onerror = () => resolve([]);
    });
  }

  // entries by id: {id, inspection, kind: answer|stock|photo, key, rev, fields, dirty, ...}
  const entries = new Map();
  const entryId = (kind, key) => `${inspection}:${kind}:${key}`;

  async function save(entry) {
    entries.set(entry.id, entry);
    await storePut(entry);
  }

  async function drop(entry) {
    entries.delete(entry.id);
    await storeDelete(entry.id);
  }

  // --- reading and writing the form ------------------------------------------------------

  function fieldsOf(box) {
    const fields = {};
    for (const input of box.querySelectorAll("[data-field]")) {
      const name = input.dataset.field;
      if (input.type === "radio") {
        if (input.checked) fields[name] = input.value;
        else if (!(name in fields)) fields[name] = "";
      } else {
        fields[name] = input.value;
      }
    }
    return fields;
  }

  function applyFields(box, fields) {
    for (const input of box.querySelectorAll("[data-field]")) {
      const name = input.dataset.field;
      if (!(name in fields)) continue;
      const value = fields[name] === null || fields[name] === undefined ? "" : String(fields[name]);
      if (input.type === "radio") input.checked = input.value === value;
      else if (document.activeElement !== input || input.value !== value) input.value = value;
    }
  }

  const sameFields = (a, b) => JSON.stringify(a) === JSON.stringify(b);

  function boxFor(entry) {
    if (entry.kind === "answer") return document.getElementById(`item-${entry.key}`);
    if (entry.kind === "stock") {
      return root.querySelector(`[data-stock-line][data-key="${entry.key}"]`) || newStockLine(entry.key);
    }
    return null;
  }

  function showState(box, text, kind) {
    if (!box) return;
    const place = box.querySelector("[data-state]");
    if (!place) return;
    place.textContent = "";
    place.className = `item-state small mt-1 state-${kind || "none"}`;
    if (text) place.append(text);
  }

  function showEntry(entry) {
    const box = boxFor(entry);
    if (!box) return;
    if (entry.conflict) {
      const place = box.querySelector("[data-state]");
      showState(box, t("tConflict", { who: entry.conflict.who || "?" }), "conflict");
      const mine = document.createElement("div");
      mine.className = "conflict-mine";
      mine.textContent = describe(entry.conflict.mine);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-primary mt-1";
      button.textContent = t("tUseMine");
      button.addEventListener("click", () => useMine(entry.id));
      place.append(mine, button);
    } else if (entry.refused) {
      showState(box, `${entry.refused} ${describe(entry.fields)}`, "refused");
    } else if (entry.dirty) {
      showState(box, t("tItemWaiting"), "waiting");
    } else {
      showState(box, t("tItemSaved"), "saved");
    }
  }

  function describe(fields) {
    return Object.values(fields || {})
      .filter((v) => v !== "" && v !== null && v !== undefined && v !== false)
      .join(" · ");
  }

  // --- edits -----------------------------------------------------------------------------

  function defaultScore(result, max) {
    if (result === "pass") return String(max);
    if (result === "fail") return "0";
    if (result === "partial") return String(Math.round(max) / 2);
    return "";
  }

  async function edited(box, kind, key, changedField) {
    if (kind === "answer" && changedField === "result") {
      const score = box.querySelector('[data-field="score"]');
      const result = fieldsOf(box).result;
      if (score && score.value === "") score.value = defaultScore(result, Number(box.dataset.max));
    }
    const id = entryId(kind, key);
    const previous = entries.get(id);
    const entry = {
      id,
      inspection,
      kind,
      key,
      rev: Number(box.dataset.rev || 0),
      fields: fieldsOf(box),
      dirty: true,
      changedAt: Date.now(),
      conflict: null,
      refused: null,
      who: previous ? previous.who : null,
    };
    await save(entry);
    showEntry(entry);
    updateStatus();
    scheduleSync(400);
  }

  async function useMine(id) {
    const entry = entries.get(id);
    if (!entry || !entry.conflict) return;
    entry.fields = entry.conflict.mine;
    entry.conflict = null;
    entry.dirty = true;
    const box = boxFor(entry);
    if (box) applyFields(box, entry.fields);
    await save(entry);
    showEntry(entry);
    updateStatus();
    scheduleSync(0);
  }

  const debounce = new Map();

  root.addEventListener("input", (event) => {
    const input = event.target.closest("[data-field]");
    if (!input || input.type === "radio") return;
    const box = input.closest("[data-item], [data-stock-line]");
    if (!box) return;
    clearTimeout(debounce.get(box));
    debounce.set(
      box,
      setTimeout(() => editedBox(box, input.dataset.field), 500),
    );
  });

  root.addEventListener("change", (event) => {
    const input = event.target;
    if (input.matches("[data-photo-input]")) {
      addPhotos(input);
      return;
    }
    if (!input.matches("[data-field]")) return;
    const box = input.closest("[data-item], [data-stock-line]");
    if (!box) return;
    clearTimeout(debounce.get(box));
    editedBox(box, input.dataset.field);
  });

  function editedBox(box, field) {
    if (box.dataset.item) return edited(box, "answer", box.dataset.item, field);
    if (!box.dataset.key) box.dataset.key = newKey();
    return edited(box, "stock", box.dataset.key, field);
  }

  // --- stock-count lines -----------------------------------------------------------------

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function newStockLine(key) {
    const template = root.querySelector("[data-stock-template]");
    const list = root.querySelector("[data-stock-lines]");
    if (!template || !list) return null;
    const line = template.content.firstElementChild.cloneNode(true);
    line.dataset.key = key || newKey();
    line.dataset.rev = "0";
    list.append(line);
    return line;
  }

  root.addEventListener("click", (event) => {
    if (event.target.closest("[data-add-stock]")) {
      const line = newStockLine();
      if (line) line.querySelector("input").focus();
    }
    const remove = event.target.closest("[data-remove-stock]");
    if (remove && window.confirm(t("tRemoveConfirm"))) {
      const line = remove.closest("[data-stock-line]");
      const id = entryId("stock", line.dataset.key);
      const entry = {
        id,
        inspection,
        kind: "stock",
        key: line.dataset.key,
        rev: Number(line.dataset.rev || 0),
        fields: { ...fieldsOf(line), removed: true },
        dirty: true,
      };
      line.hidden = true;
      save(entry).then(() => {
        updateStatus();
        scheduleSync(0);
      });
    }
  });

  // --- photos ----------------------------------------------------------------------------

  async function addPhotos(input) {
    const box = input.closest("[data-item]");
    for (const file of Array.from(input.files || [])) {
      const key = newKey();
      const entry = {
        id: entryId("photo", key),
        inspection,
        kind: "photo",
        key,
        itemId: box.dataset.item,
        name: file.name || "photo.jpg",
        blob: file,
        dirty: true,
      };
      await save(entry);
      showLocalPhoto(entry);
    }
    input.value = "";
    updateStatus();
    scheduleSync(0);
  }

  function showLocalPhoto(entry) {
    const box = document.getElementById(`item-${entry.itemId}`);
    if (!box || !entry.blob) return;
    const img = document.createElement("img");
    img.className = "photo-thumb photo-waiting";
    img.alt = t("tPhotoWaiting");
    img.title = t("tPhotoWaiting");
    img.dataset.localPhoto = entry.key;
    img.src = URL.createObjectURL(entry.blob);
    const label = box.querySelector("[data-photos] label");
    label.before(img);
  }

  // --- talking to the server -------------------------------------------------------------

  function pending() {
    return Array.from(entries.values()).filter((e) => e.dirty);
  }

  function updateStatus(saving) {
    const waiting = pending().length;
    let state = "saved";
    let text = t("tSaved");
    if (saving && waiting) {
      state = "saving";
      text = t("tSaving");
    } else if (waiting && !navigator.onLine) {
      state = "offline";
      text = t("tOffline", { n: waiting });
    } else if (waiting) {
      state = "waiting";
      text = t("tWaiting", { n: waiting });
    }
    statusBar.dataset.state = state;
    statusBar.dataset.pending = String(waiting);
    statusBar.textContent = text;
    statusBar.className = `sync-bar alert py-1 px-2 small ${
      state === "saved" ? "alert-success" : state === "saving" ? "alert-info" : "alert-warning"
    }`;
  }

  function scheduleSync(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(sync, delay);
  }

  async function refreshToken() {
    const response = await fetch(root.dataset.stateUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return null;
    const state = await response.json();
    csrf = state.csrf_token;
    return state;
  }

  async function send(entry) {
    if (entry.kind === "photo") {
      const body = new FormData();
      body.append("file", entry.blob, entry.name);
      body.append("item_id", entry.itemId);
      body.append("client_key", entry.key);
      return fetch(root.dataset.photoUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      });
    }
    const url =
      entry.kind === "answer"
        ? root.dataset.answerUrl.replace(/\/0$/, `/${entry.key}`)
        : root.dataset.stockUrl.replace(/KEY$/, entry.key);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf,
      },
      body: JSON.stringify({ ...entry.fields, base_rev: entry.rev }),
    });
  }

  async function syncOne(entry, retried) {
    const sent = JSON.stringify(entry.fields);
    let response;
    try {
      response = await send(entry);
    } catch (error) {
      return false; // no network: keep it, try again later
    }
    if (response.status === 400 && !retried) {
      // The form token may have changed (a new sign-in): fetch a fresh one and retry once.
      if (await refreshToken().catch(() => null)) return syncOne(entry, true);
      return false;
    }
    let body = {};
    try {
      body = await response.json();
    } catch (error) {
      body = {};
    }
    if (response.redirected || response.status === 401) return false; // signed out
    const current = entries.get(entry.id) || entry;
    if (entry.kind === "photo") {
      if (response.ok) {
        const img = root.querySelector(`[data-local-photo="${entry.key}"]`);
        if (img) {
          img.classList.remove("photo-waiting");
          img.removeAttribute("title");
          img.src = body.photo.preview;
        }
        await drop(entry);
      } else if (response.status >= 400 && response.status < 500) {
        const box = document.getElementById(`item-${entry.itemId}`);
        showState(box, `${t("tRefused")} ${body.error || response.status}`, "refused");
        const img = root.querySelector(`[data-local-photo="${entry.key}"]`);
        if (img) img.remove();
        await drop(entry);
      } else {
        return false;
      }
      return true;
    }
    const box = boxFor(current);
    if (response.ok) {
      const saved = entry.kind === "answer" ? body.answer : body.line;
      current.rev = saved.rev;
      if (box) box.dataset.rev = String(saved.rev);
      if (JSON.stringify(current.fields) === sent) current.dirty = false;
      current.who = saved.updated_by || current.who;
      if (current.fields.removed && !current.dirty) {
        if (box) box.remove();
      }
      await save(current);
      showEntry(current);
      return true;
    }
    if (response.status === 409 && body.current) {
      const theirs = { ...body.current };
      const mine = current.fields;
      current.rev = theirs.rev;
      current.fields = pick(theirs, Object.keys(mine));
      current.dirty = false;
      current.conflict = sameFields(current.fields, mine)
        ? null
        : { mine, who: theirs.updated_by || "" };
      if (box) {
        box.dataset.rev = String(theirs.rev);
        applyFields(box, current.fields);
      }
      await save(current);
      showEntry(current);
      return true;
    }
    if (response.status >= 400 && response.status < 500) {
      current.dirty = false;
      current.refused = response.status === 423 ? t("tLocked") : `${t("tRefused")} ${body.error || response.status}`;
      await save(current);
      showEntry(current);
      return true;
    }
    return false; // a server error: try again later
  }

  function pick(source, keys) {
    const out = {};
    for (const key of keys) out[key] = source[key] === undefined ? "" : source[key];
    return out;
  }

  async function sync() {
    if (syncing) return;
    if (!pending().length) {
      updateStatus();
      return;
    }
    if (!navigator.onLine) {
      updateStatus();
      scheduleSync(5000);
      return;
    }
    syncing = true;
    updateStatus(true);
    let failed = false;
    try {
      for (const entry of pending()) {
        if (!(await syncOne(entry))) {
          failed = true;
          break;
        }
      }
    } finally {
      syncing = false;
    }
    updateStatus();
    if (failed || pending().length) scheduleSync(failed ? 5000 : 0);
  }

  // --- start: what this browser kept wins over the page until the server has it ------------

  async function restore() {
    for (const entry of await storeAll()) {
      entries.set(entry.id, entry);
      if (entry.kind === "photo") {
        if (entry.dirty) showLocalPhoto(entry);
        continue;
      }
      const box = boxFor(entry);
      if (!box) continue;
      const pageRev = Number(box.dataset.rev || 0);
      if (entry.dirty || entry.conflict || entry.rev >= pageRev) {
        box.dataset.rev = String(entry.rev);
        applyFields(box, entry.fields);
        if (entry.fields.removed) box.hidden = true;
        if (entry.dirty || entry.conflict || entry.refused) showEntry(entry);
      }
    }
    updateStatus();
  }

  async function catchUp() {
    // Answers saved meanwhile from another device come in where this one has nothing unsent.
    const state = await refreshToken().catch(() => null);
    if (!state) return;
    if (state.status === "submitted" || state.status === "cancelled") {
      root.dataset.locked = state.status;
    }
    for (const answer of state.answers) {
      const box = document.getElementById(`item-${answer.item_id}`);
      const entry = entries.get(entryId("answer", answer.item_id));
      if (!box || (entry && (entry.dirty || entry.conflict))) continue;
      if (answer.rev > Number(box.dataset.rev || 0)) {
        box.dataset.rev = String(answer.rev);
        applyFields(box, pick(answer, ["result", "score", "note"]));
      }
    }
  }

  root.querySelector("[data-submit-form]").addEventListener("submit", (event) => {
    if (pending().length) {
      event.preventDefault();
      event.stopPropagation();
      window.alert(t("tPendingSubmit"));
      scheduleSync(0);
    }
  });

  window.addEventListener("online", () => scheduleSync(0));
  window.addEventListener("offline", () => updateStatus());

  async function keepOffline() {
    // The service worker serves this page again without a network once it has been opened.
    if (!("serviceWorker" in navigator) || !("caches" in window)) return;
    try {
      await navigator.serviceWorker.register(root.dataset.sw, { scope: root.dataset.scope });
      await navigator.serviceWorker.ready;
      const cache = await caches.open("portal-inspections-v1");
      const assets = Array.from(
        document.querySelectorAll('link[rel="stylesheet"][href], script[src]'),
        (el) => el.getAttribute("href") || el.getAttribute("src"),
      );
      await cache.addAll(assets);
      const page = await fetch(location.href, { credentials: "same-origin" });
      if (page.ok && !page.redirected) await cache.put(location.pathname, page);
      root.dataset.offlineReady = "1";
    } catch (error) {
      root.dataset.offlineReady = "0";
    }
  }

  restore()
    .then(() => (navigator.onLine ? catchUp() : null))
    .then(() => {
      updateStatus();
      scheduleSync(0);
    });
  keepOffline();
})();
