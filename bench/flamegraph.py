#!/usr/bin/env python3
"""A flame graph (SVG) from `perf script` output, for docs/performance.md.

  perf record -F 999 -g -p PID -- sleep 10
  perf script | bench/flamegraph.py --title "icp-server, GET" > docs/img/flame.svg

Written here because Debian 12 does not package Brendan Gregg's FlameGraph
scripts: this folds each sample's stack (root first), sums equal stacks and
draws one rectangle per frame, its width the share of samples it is on.
Frames narrower than --min-width pixels are left out (their samples still
count in their parents' width). Hover a frame for its name and share.
"""
import argparse
import hashlib
import html
import re
import sys
from collections import defaultdict

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.+?)\s+\((.*)\)$")


def shorten(symbol):
    """A C++ symbol without template arguments and parameters: readable widths."""
    out, depth = [], 0
    for c in symbol:
        if c == "<":
            depth += 1
        elif c == ">" and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(c)
    text = "".join(out)
    return re.sub(r"\(.*\)( const)?$", "", text) or symbol


def fold(lines):
    """{stack tuple, root first: samples} from perf script text."""
    stacks = defaultdict(int)
    frames = []
    header = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if header is not None:
                stacks[tuple([header] + frames[::-1])] += 1
            frames, header = [], None
        elif not line.startswith((" ", "\t")):
            header = line.split()[0]  # the command name
        else:
            match = FRAME.match(line)
            if match:
                symbol = re.sub(r"\+0x[0-9a-f]+$", "", match.group(1))
                if symbol == "[unknown]":
                    symbol = f"[{match.group(2).rsplit('/', 1)[-1]}]"
                frames.append(shorten(symbol))
    if header is not None:
        stacks[tuple([header] + frames[::-1])] += 1
    return stacks


def tree(stacks):
    root = {"name": "all", "count": 0, "children": {}}
    for stack, count in stacks.items():
        root["count"] += count
        node = root
        for name in stack:
            node = node["children"].setdefault(name, {"name": name, "count": 0, "children": {}})
            node["count"] += count
    return root


def color(name):
    kernel = name.startswith(("__", "do_", "tcp_", "ip_", "sys_", "entry_", "ep_", "sock_"))
    hue = int(hashlib.md5(name.encode()).hexdigest()[:4], 16)
    if kernel:
        return f"rgb({200 + hue % 55},{120 + hue % 60},{40 + hue % 40})"
    return f"rgb({220 + hue % 35},{60 + hue % 120},{30 + hue % 30})"


def render(root, title, width, min_width):
    rows = []
    total = root["count"]
    depth = [0]

    def walk(node, x, level):
        w = width * node["count"] / total
        if w < min_width:
            return
        depth[0] = max(depth[0], level)
        rows.append((x, level, w, node["name"], node["count"]))
        child_x = x
        for child in sorted(node["children"].values(), key=lambda c: c["name"]):
            walk(child, child_x, level + 1)
            child_x += width * child["count"] / total

    walk(root, 0.0, 0)
    height = 17
    top = 30
    svg_height = top + (depth[0] + 1) * height + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{svg_height}" '
           f'font-family="monospace" font-size="11">',
           f'<rect width="100%" height="100%" fill="#fdfdf8"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">'
           f'{html.escape(title)} ({total} samples)</text>']
    for x, level, w, name, count in rows:
        y = svg_height - 10 - (level + 1) * height  # root at the bottom
        share = 100.0 * count / total
        label = html.escape(name)
        out.append(f'<g><title>{label} ({count} samples, {share:.1f}%)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{height - 1}" '
                   f'fill="{color(name)}" rx="2"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = name if len(name) <= chars else name[:chars - 2] + ".."
            out.append(f'<text x="{x + 3:.1f}" y="{y + 12}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--title", default="perf samples")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--min-width", type=float, default=0.5)
    parser.add_argument("--folded", help="also write the folded stacks here (one per line)")
    args = parser.parse_args()
    stacks = fold(sys.stdin)
    if not stacks:
        sys.exit("flamegraph.py: no samples with call chains on stdin (perf record -g?)")
    if args.folded:
        with open(args.folded, "w") as folded:
            for stack, count in sorted(stacks.items()):
                folded.write(f"{';'.join(stack)} {count}\n")
    sys.stdout.write(render(tree(stacks), args.title, args.width, args.min_width))


if __name__ == "__main__":
    main()
