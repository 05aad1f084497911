// Light or dark: the system's choice (prefers-color-scheme) until the
// person picks one with the theme button; that choice is remembered in
// localStorage. The theme is data-theme on <html>; style.css keeps the
// colours of each in custom properties.

const KEY = 'tincan.theme';
const media = matchMedia('(prefers-color-scheme: light)');

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
    btn.setAttribute('aria-pressed', String(t === 'light'));
    btn.querySelector('.theme-label').textContent = t === 'light' ? 'Light theme' : 'Dark theme';
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
