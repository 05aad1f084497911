#!/usr/bin/python3
"""Generates src/signal/uname_tables.h: the Unicode tables behind lobby
names (src/signal/uname.c).

    scripts/gen_uname_tables.py [OUT]        (default src/signal/uname_tables.h)

Sources, all from Debian packages (scripts/deps.sh installs them):
  - unicode-data: /usr/share/unicode/UnicodeData.txt (general categories),
    Scripts.txt (the script of each code point), CaseFolding.txt (full case
    folding: statuses C and F).
  - python3-confusable-homoglyphs: confusables.json, the confusable pairs of
    Unicode's confusables.txt (UTS #39). No Debian package ships
    confusables.txt itself, so the table here is reduced: only pairs of
    single code points (a confusable that is a sequence, like "rn" for "m",
    is left out).

Tables written:
  - class_ranges: code point ranges that may appear in a name beyond ASCII,
    with their class (letter, decimal digit, spacing mark, nonspacing mark);
    everything else (unassigned Cn, enclosing marks Me, symbols,
    punctuation, format and control characters, spaces) is absent.
  - script_ranges: ranges of Scripts.txt with an index into script_names.
  - fold_table: full case folding, a code point to up to three.
  - proto_table: each code point to the prototype of its class, where a
    class joins code points that are confusable (the pairs above), and the
    prototype is the class's ASCII lower-case letter, else its ASCII digit,
    else its lowest code point. (Case is not part of a class: joining
    case pairs too chains unrelated letters together; uname.c folds case
    between two prototype mappings instead.)
The output is deterministic: run it again and diff to check the checked-in
copy (tests/integration/uname-tables.test.mjs does).
"""
import json
import sys

UNICODE = '/usr/share/unicode'
CONFUSABLES = '/usr/lib/python3/dist-packages/confusable_homoglyphs/confusables.json'
CLASSES = {'L': 'UNAME_LETTER', 'Nd': 'UNAME_DIGIT', 'Mc': 'UNAME_MARK', 'Mn': 'UNAME_NONSPACING'}


def data_lines(path):
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                yield [x.strip() for x in line.split(';')]


def categories():
    """Yields (code point, class) for the classes a name may use."""
    first = None
    for f in data_lines(f'{UNICODE}/UnicodeData.txt'):
        cp, name, cat = int(f[0], 16), f[1], f[2]
        cls = CLASSES.get('L' if cat.startswith('L') else cat)
        if name.endswith(', First>'):
            first = cp
            continue
        lo = first if name.endswith(', Last>') else cp
        first = None
        if cls and cp >= 0x80:
            for c in range(lo, cp + 1):
                yield c, cls


def ranges(pairs):
    """Merges sorted (cp, value) pairs into (lo, hi, value) runs."""
    out = []
    for cp, v in sorted(pairs):
        if out and out[-1][1] == cp - 1 and out[-1][2] == v:
            out[-1][1] = cp
        else:
            out.append([cp, cp, v])
    return out


def scripts():
    names = ['Common', 'Inherited']
    pairs = []
    for f in data_lines(f'{UNICODE}/Scripts.txt'):
        lo, _, hi = f[0].partition('..')
        if f[1] not in names:
            names.append(f[1])
        for c in range(int(lo, 16), int(hi or lo, 16) + 1):
            pairs.append((c, names.index(f[1])))
    return names, ranges(pairs)


def folding():
    full = {}
    for f in data_lines(f'{UNICODE}/CaseFolding.txt'):
        cp, status, to = int(f[0], 16), f[1], [int(x, 16) for x in f[2].split()]
        if status in ('C', 'F'):
            full[cp] = to
    return full


def prototypes():
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    with open(CONFUSABLES, encoding='utf-8') as f:
        conf = json.load(f)
    for key, targets in sorted(conf.items()):
        key = key.replace('\u200e', '').replace('\u200f', '')
        for t in targets:
            c = t['c'].replace('\u200e', '').replace('\u200f', '')
            if len(key) == 1 and len(c) == 1:
                union(ord(key), ord(c))
    members = {}
    for cp in list(parent):
        members.setdefault(find(cp), []).append(cp)

    def rank(c):
        if 0x61 <= c <= 0x7a:
            return (0, c)
        if 0x30 <= c <= 0x39:
            return (1, c)
        return (2, c)

    table = {}
    for group in members.values():
        proto = min(group, key=rank)
        for cp in group:
            if cp != proto:
                table[cp] = proto
    return table


def emit(out, rows, per_line):
    for i in range(0, len(rows), per_line):
        out.append('    ' + ' '.join(rows[i:i + per_line]))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else 'src/signal/uname_tables.h'
    names, script_ranges = scripts()
    full = folding()
    proto = prototypes()
    cls = ranges(categories())
    out = ['/* Generated by scripts/gen_uname_tables.py from Debian\'s unicode-data',
           ' * (UnicodeData.txt, Scripts.txt, CaseFolding.txt) and',
           ' * python3-confusable-homoglyphs (confusables.json). Do not edit. */',
           '#ifndef TINCAN_UNAME_TABLES_H', '#define TINCAN_UNAME_TABLES_H', '']
    out.append('static const char *const script_names[] = {')
    emit(out, [f'"{n}",' for n in names], 8)
    out += ['};', '', f'#define UNAME_SCRIPTS {len(names)}', '']
    out.append('static const struct class_range class_ranges[] = {')
    emit(out, [f'{{0x{lo:X}, 0x{hi:X}, {v}}},' for lo, hi, v in cls], 3)
    out += ['};', '', 'static const struct script_range script_ranges[] = {']
    emit(out, [f'{{0x{lo:X}, 0x{hi:X}, {v}}},' for lo, hi, v in script_ranges], 4)
    out += ['};', '', 'static const struct fold_entry fold_table[] = {']
    rows = []
    for cp in sorted(full):
        to = full[cp] + [0] * (3 - len(full[cp]))
        rows.append(f'{{0x{cp:X}, {{0x{to[0]:X}, 0x{to[1]:X}, 0x{to[2]:X}}}}},')
    emit(out, rows, 3)
    out += ['};', '', 'static const struct proto_entry proto_table[] = {']
    emit(out, [f'{{0x{cp:X}, 0x{proto[cp]:X}}},' for cp in sorted(proto)], 5)
    out += ['};', '', '#endif', '']
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out))


if __name__ == '__main__':
    main()
