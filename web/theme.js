// Light or dark: the system's choice (prefers-color-scheme) until the
// person picks one with the theme button; that choice is remembered in
// localStorage. The theme is data-theme on <html>; style.css keeps the
// colours of each in custom properties.
//
// The button names what it does, in its text, icon and accessible name:
// "Dark theme" with a moon in the light theme, "Light theme" with a sun in
// the dark one (aria-label "Switch to … theme"; no aria-pressed, since the
// label already changes with the state).

const KEY = 'tincan.theme';
const media = matchMedia('(prefers-color-scheme: light)');
const MOON = 'M12 3a9 9 0 1 0 9 9c0-.46-.04-.92-.1-1.36a5.39 5.39 0 0 1-4.4 2.26 5.4 5.4 0 0 1-3.14-9.8c-.44-.06-.9-.1-1.36-.1z';
const SUN = 'M12 7a5 5 0 1 0 0 10 5 5 0 0 0 0-10zM11 1h2v3h-2zm0 19h2v3h-2zM1 11h3v2H1zm19 0h3v2h-3zM4.2 5.6l1.4-1.4 2.1 2.1-1.4 1.4zm12.1 12.1 1.4-1.4 2.1 2.1-1.4 1.4zM4.2 18.4l2.1-2.1 1.4 1.4-2.1 2.1zM16.3 6.3l2.1-2.1 1.4 1.4-2.1 2.1z';

function saved() {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null;
  }
}

/** The theme in effect: 'light' or 'dark'. */
export function current() {
  return saved() || (media.matches ? 'light' : 'dark');
}

function apply() {
  const t = current();
  document.documentElement.dataset.theme = t;
  const meta = document.querySelector('meta[name="color-scheme"]');
  if (meta) meta.content = t;
  // theme-color stays the brand colour of the manifest in both themes.
  for (const btn of document.querySelectorAll('.theme-toggle')) {
    const to = t === 'light' ? 'dark' : 'light';
    btn.removeAttribute('aria-pressed');
    btn.setAttribute('aria-label', `Switch to ${to} theme`);
    btn.dataset.to = to;
    btn.querySelector('.theme-label').textContent = to === 'dark' ? 'Dark theme' : 'Light theme';
    const path = btn.querySelector('svg path');
    if (path) path.setAttribute('d', to === 'dark' ? MOON : SUN);
  }
}

/** Switches to the other theme and remembers it. */
export function toggle() {
  const next = current() === 'light' ? 'dark' : 'light';
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // Not remembered; it still applies to this page.
  }
  apply();
}

/** Applies the theme now, follows the system while nothing is chosen, wires every .theme-toggle. */
export function initTheme() {
  apply();
  media.addEventListener('change', apply);
  for (const btn of document.querySelectorAll('.theme-toggle')) btn.addEventListener('click', toggle);
}
