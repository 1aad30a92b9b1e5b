// The inspector's app's service worker (DESIGN §10a). Served by app/pages/inspector_app.py,
// which writes in the release and the files below: any change to the app changes this
// text, so the browser installs the new worker at the next visit.
//
// What it keeps: the shell, its scripts, fonts, icons and Leaflet, in a cache named by the
// release. What it never touches: IndexedDB (the synced records and the outbox), so no
// release can make an inspector's unsent reports unreachable. The API is never cached
// or answered from here: it goes to the network as the page sent it.
"use strict";

const RELEASE = "__RELEASE__";
const FILES = "__FILES__";
const CACHE = `bazres-app-${RELEASE}`;
const PREFIX = "bazres-app-";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `no-cache`: asked again of the server (a 304 for what the page has just fetched,
    // rather than the whole app twice on a first visit); the addresses carry the release.
    await cache.addAll(FILES.map((url) => new Request(url, { cache: "no-cache" })));
    // A new release takes over at once; the page reloads itself (main.js) when it is
    // safe to, so nobody keeps running an old app.
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(PREFIX) && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && (url.pathname === "/app" || url.pathname.startsWith("/app/"))) {
    event.respondWith(shell(request));
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/app/")) {
    event.respondWith(cached(request));
  }
});

// The shell from this release's cache: a warm start costs no network at all, and works
// with none. Online, the browser still fetches sw.js on each visit and so finds updates.
async function shell(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match("/app/");
  if (hit) return hit;
  return fetch(request);
}

// A file of the release (exactly, or the same path: a font or image named in a stylesheet
// carries no release), else the network.
async function cached(request) {
  const cache = await caches.open(CACHE);
  const hit = (await cache.match(request)) || (await cache.match(request, { ignoreSearch: true }));
  return hit || fetch(request);
}
