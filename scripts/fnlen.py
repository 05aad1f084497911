#!/usr/bin/python3
"""fnlen — no C function in src/ (.c files, and inline functions in .h files)
is longer than 60 lines (CONVENTIONS.md 12).

A function is counted from the first line of its definition (the return
type) to its closing brace, both included. Functions are found the way the
code is written (clang-format, Linux style): a definition's body opens with
a "{" alone in column 0 and closes with a "}" alone in column 0; the lines
before the "{" back to the previous blank line, comment, "}" or ";" line are
its head. Braces inside strings, characters and comments are skipped, so a
body's extent is found by matching braces, not by trusting column 0 alone.

Usage: scripts/fnlen.py [--max N] [--list] [DIR or FILE ...]   (default: src)
Prints every function over the limit, then "fnlen: N passed, N failed"
(functions within / over the limit); exits 1 if any is over.
"""
import os
import re
import sys

LIMIT = 60


def strip_code(text):
    """The text with comments, strings and character literals blanked
    (newlines kept), so braces in them do not count."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r'[^\n]', ' ', text[i + 1:j - 1]) + c if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def functions(path):
    """Yields (name, first line, last line) of each function defined in path."""
    with open(path, encoding='utf-8', errors='replace') as f:
        raw = f.read()
    lines = strip_code(raw).split('\n')
    i = 0
    while i < len(lines):
        if lines[i].rstrip() != '{':
            i += 1
            continue
        start = i
        while start > 0:
            prev = lines[start - 1].strip()
            if not prev or prev.endswith((';', '}')) or prev.startswith('#'):
                break
            start -= 1
        head = ' '.join(l.strip() for l in lines[start:i])
        depth, j = 0, i
        while j < len(lines):
            depth += lines[j].count('{') - lines[j].count('}')
            if depth <= 0:
                break
            j += 1
        m = re.search(r'([A-Za-z_]\w*)\s*\(', head)
        if m and not re.search(r'=\s*$', head):
            yield m.group(1), start + 1, j + 1
        i = j + 1


def c_files(args):
    for a in args:
        if os.path.isfile(a):
            yield a
            continue
        for d, _, names in sorted(os.walk(a)):
            for name in sorted(names):
                if name.endswith(('.c', '.h')):
                    yield os.path.join(d, name)


def main(argv):
    limit, listing, paths = LIMIT, False, []
    it = iter(argv)
    for a in it:
        if a == '--max':
            limit = int(next(it))
        elif a == '--list':
            listing = True
        else:
            paths.append(a)
    ok = bad = 0
    for path in c_files(paths or ['src']):
        for name, first, last in functions(path):
            n = last - first + 1
            if listing:
                print(f'{n:5d} {path}:{first} {name}')
            if n > limit:
                bad += 1
                print(f'{path}:{first}: {name}() is {n} lines (limit {limit})')
            else:
                ok += 1
    print(f'fnlen: {ok} passed, {bad} failed')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
