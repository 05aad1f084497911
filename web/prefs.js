// What the page remembers between visits, in localStorage: the name others
// see, whether to skip the pre-join screen, and the microphone / camera
// choice made there. Storage may be off (private windows, policies); then
// nothing is remembered and every getter returns its default.

const KEY = {
  name: 'tincan.name',
  skip: 'tincan.skipPrejoin',
  mic: 'tincan.micOff',
  cam: 'tincan.camOff',
};

function get(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function set(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Not remembered; it still applies to this page.
  }
}

/** A name others may see: 1–32 letters, digits, spaces, dots, dashes or underscores. */
export const NAME_RE = /^[\p{L}\p{N}_.-](?:[\p{L}\p{N} _.-]{0,30}[\p{L}\p{N}_.-])?$/u;

/** The remembered name, or '' (then others see "Guest xxxx"). */
export function savedName() {
  const n = get(KEY.name) || '';
  return NAME_RE.test(n) ? n : '';
}

export function saveName(name) {
  set(KEY.name, name && NAME_RE.test(name) ? name : null);
}

export const skipPrejoin = () => get(KEY.skip) === '1';
export const setSkipPrejoin = (on) => set(KEY.skip, on ? '1' : null);

/** {micOff, camOff} chosen on the pre-join screen last time. */
export function savedDevices() {
  return { micOff: get(KEY.mic) === '1', camOff: get(KEY.cam) === '1' };
}

export function saveDevices({ micOff, camOff }) {
  set(KEY.mic, micOff ? '1' : null);
  set(KEY.cam, camOff ? '1' : null);
}
