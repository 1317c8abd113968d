// Service worker of the inspection pages: an inspection form that was opened once loads
// again without a network. Answers are not handled here: the page keeps them in IndexedDB
// and sends them itself (see inspection-fill.js).
const CACHE = "portal-inspections-v1";
const FILL_PAGE = /\/inspections\/\d+\/fill$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function remember(request, response) {
  if (response && response.ok && !response.redirected && response.type === "basic") {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    if (!FILL_PAGE.test(url.pathname)) return;
    // Network first: the newest answers; the kept copy when there is no network.
    event.respondWith(
      fetch(request)
        .then((response) => remember(url.pathname, response))
        .catch(() =>
          caches
            .match(url.pathname, { ignoreSearch: true })
            .then((kept) => kept || Response.error()),
        ),
    );
    return;
  }

  const asset =
    url.pathname.startsWith("/static/") ||
    url.pathname.startsWith("/bootstrap/") ||
    /\/inspections\/files\/\d+\/preview$/.test(url.pathname);
  if (asset) {
    // Kept copy first (fast on a poor network), refreshed in the background.
    event.respondWith(
      caches.match(request).then((kept) => {
        const fresh = fetch(request)
          .then((response) => remember(request, response))
          .catch(() => kept || Response.error());
        return kept || fresh;
      }),
    );
  }
});
