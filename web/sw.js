// tincan service worker: keeps the app shell (page, styles, scripts, icons)
// in a versioned cache and serves it cache-first, so the page opens offline
// and installs as an app. Signaling (/ws), the REST API (/api/*) and /health
// always go to the network and are never stored.
//
// Bump VERSION whenever any file in SHELL changes: the browser re-fetches
// sw.js on every navigation (it is served with Cache-Control: no-cache), a
// changed sw.js installs a fresh cache, and activate deletes the old ones.

const VERSION = 'v13';
const PREFIX = 'tincan-shell-';
const CACHE = PREFIX + VERSION;

const SHELL = [
  '/',
  '/style.css',
  '/app.js',
  '/signal.js',
  '/ui.js',
  '/call.js',
  '/sfu-call.js',
  '/sfu-screen.js',
  '/sfu-view.js',
  '/media.js',
  '/session.js',
  '/call-view.js',
  '/chat.js',
  '/lobby.js',
  '/lobby-view.js',
  '/ring.js',
  '/prefs.js',
  '/prejoin.js',
  '/invite.js',
  '/speaker.js',
  '/selfview.js',
  '/e2ee.js',
  '/e2ee-worker.js',
  '/e2ee-view.js',
  '/e2ee.css',
  '/account.js',
  '/teamrooms.js',
  '/presence.js',
  '/screenshare.js',
  '/volume.js',
  '/devices.js',
  '/theme.js',
  '/manifest.json',
  '/favicon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
];
const SHELL_PATHS = new Set(SHELL);

/** Paths that must never be answered from or written to the cache. */
function isLive(path) {
  return path === '/ws' || path === '/health' || path === '/api' || path.startsWith('/api/');
}

self.addEventListener('install', (ev) => {
  // cache: 'reload' skips the HTTP cache so a new version never stores an
  // old copy of a file.
  ev.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((key) => key.startsWith(PREFIX) && key !== CACHE)
        .map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || isLive(url.pathname)) return;
  // /r/<name> is the same page as / (the app reads the room from the URL).
  const path = req.mode === 'navigate' && url.pathname.startsWith('/r/') ? '/' : url.pathname;
  if (!SHELL_PATHS.has(path)) return;
  ev.respondWith(
    caches.open(CACHE)
      // ignoreVary: the stored body is already decoded, so a response that
      // varied on Accept-Encoding fits any request for the same path.
      .then((cache) => cache.match(path, { ignoreVary: true }))
      .then((hit) => hit || fetch(req)),
  );
});

// A click on an incoming-call notification brings the tab forward.
self.addEventListener('notificationclick', (ev) => {
  ev.notification.close();
  ev.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
    const tab = list.find((c) => 'focus' in c);
    return tab ? tab.focus() : self.clients.openWindow('/');
  }));
});
