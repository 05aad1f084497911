// What end-to-end encryption looks like on the page (see e2ee.js): the
// start page's "New encrypted room", the pre-join screen's passphrase field
// (or the note that the link carries the key, or that this browser cannot
// encrypt), the call screen's "End-to-end encrypted · safety code …" line
// and its red warning naming the members whose media cannot be decrypted.

import { e2eeSupported } from './e2ee.js';

const $ = (id) => document.getElementById(id);

export const UNSUPPORTED = 'This browser cannot encrypt calls end to end (it lacks RTCRtpScriptTransform), '
  + 'so this encrypted room will not start here. Open the link in a current Chrome, Edge, Firefox or Safari.';
export const UNSUPPORTED_NEW = 'This browser cannot encrypt calls end to end (it lacks RTCRtpScriptTransform), '
  + 'so it cannot make an encrypted room. Use a current Chrome, Edge, Firefox or Safari.';

/** Wires the start page's "New encrypted room" button to newRoom(). */
export function bindE2eeStart({ newRoom }) {
  $('new-e2ee-room').addEventListener('click', newRoom);
}

/**
 * Prepares the pre-join screen: `link` true when the room's link carries
 * its key (no passphrase asked), false to offer the optional passphrase.
 */
export function prejoinE2ee({ link }) {
  const supported = e2eeSupported();
  $('e2ee-prejoin-link').hidden = !link;
  $('e2ee-pass-row').hidden = link || !supported;
  $('e2ee-prejoin-none').hidden = link || supported;
  $('e2ee-pass').value = '';
}

/** The passphrase typed on the pre-join screen ('' for none). */
export function prejoinPassphrase() {
  const row = $('e2ee-pass-row');
  return row && !row.hidden ? $('e2ee-pass').value : '';
}

let shown = null; // {e2ee, onChange}

/** Shows the call screen's encryption line and keeps the warning current; null hides both. */
export function showE2ee(e2ee) {
  if (shown) shown.e2ee.removeEventListener('change', shown.onChange);
  shown = null;
  $('e2ee-line').hidden = !e2ee;
  $('e2ee-warning').hidden = true;
  if (!e2ee) return;
  $('e2ee-code').textContent = e2ee.safetyCode;
  const onChange = () => renderWarning(e2ee);
  e2ee.addEventListener('change', onChange);
  shown = { e2ee, onChange };
  renderWarning(e2ee);
}

const WHY = {
  mismatch: 'their key does not match yours',
  undecryptable: 'their media cannot be decrypted',
};

function renderWarning(e2ee) {
  const problems = e2ee.problems();
  const box = $('e2ee-warning');
  const text = problems.length === 0 ? ''
    : `Not encrypted with the same key: ${problems.map((p) => `${e2ee.label(p.id)} (${WHY[p.why]})`).join(', ')}. `
      + 'You can neither see nor hear them. Check that everyone used the same link or passphrase.';
  if (box.textContent !== text) box.textContent = text;
  box.hidden = problems.length === 0;
  box.dataset.peers = problems.map((p) => p.id).join(' ');
}

/**
 * In a call without encryption, someone in the room sent an encryption key:
 * they encrypt and we cannot read them (we lack the link's key or passphrase).
 */
export function showUnencryptedWarning() {
  const box = $('e2ee-warning');
  const text = 'Others in this room encrypt the call end to end and you joined without the key, '
    + 'so you cannot see or hear them. Rejoin with the room’s full link or its passphrase.';
  if (box.textContent !== text) box.textContent = text;
  box.hidden = false;
}
