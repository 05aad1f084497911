// Inviting people: the link of the room a call is in (copied, or handed to
// the system's share sheet on phones), and fresh room names made of three
// short words for the start page's "New room".

const WORDS = [
  'amber', 'apple', 'aspen', 'badger', 'basil', 'birch', 'bison', 'brook', 'cedar', 'cherry', 'cider', 'clover',
  'cobalt', 'comet', 'coral', 'crane', 'daisy', 'delta', 'dune', 'ember', 'falcon', 'fern', 'fig', 'finch',
  'fjord', 'flint', 'fox', 'garnet', 'ginger', 'glade', 'granite', 'harbor', 'hazel', 'heron', 'hollow', 'indigo',
  'iris', 'ivy', 'jade', 'juniper', 'kestrel', 'kiwi', 'lagoon', 'lark', 'lemon', 'lilac', 'linden', 'lotus',
  'lynx', 'maple', 'marble', 'meadow', 'mint', 'moss', 'nectar', 'nova', 'oak', 'ocean', 'olive', 'onyx',
  'orchid', 'otter', 'pebble', 'pepper', 'pine', 'plum', 'poppy', 'quartz', 'quill', 'raven', 'reef', 'river',
  'robin', 'saffron', 'sage', 'salmon', 'sequoia', 'sparrow', 'spruce', 'stone', 'sunset', 'swift', 'thyme',
  'tide', 'topaz', 'tulip', 'tundra', 'velvet', 'violet', 'walnut', 'willow', 'wren', 'yarrow', 'zephyr',
];

/** A new room name like "otter-maple-tide" (random, from crypto.getRandomValues). */
export function randomRoomName() {
  const n = new Uint32Array(3);
  crypto.getRandomValues(n);
  return [...n].map((v) => WORDS[v % WORDS.length]).join('-');
}

/** The link that opens room `room` on this server. */
export function roomLink(room, loc = location) {
  return `${loc.origin}/r/${encodeURIComponent(room)}`;
}

/** Whether sharing should use the system share sheet (phones and tablets). */
export function canShare() {
  return typeof navigator.share === 'function' && matchMedia('(pointer: coarse)').matches;
}

/**
 * Shares or copies `url`; resolves to what happened: 'shared', 'copied',
 * or 'shown' (nothing worked: the caller shows the link to copy by hand).
 */
export async function shareLink(url, title) {
  if (canShare()) {
    try {
      await navigator.share({ title, url });
      return 'shared';
    } catch (err) {
      if (err && err.name === 'AbortError') return 'cancelled';
    }
  }
  try {
    await navigator.clipboard.writeText(url);
    return 'copied';
  } catch {
    return 'shown';
  }
}
