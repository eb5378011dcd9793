"""Draws mwpm page-table snapshots as a PNG.

Input: JSON lines written by mwpm_dump() (mono/utils/mwpm-dump.c), one snapshot per line.
Output: one panel per snapshot, the linear memory folded into rows of --width pages (page 0 at
the top left), one pixel per page coloured by state, a legend, and the snapshot's stats beside
it. Rows keep the image far below matplotlib's 65,536-pixel limit (65,536 pages / 256 = 256 rows).
"""
import argparse
import json
import os
import sys

STATES = [  # MwpmPageState order
    ('not ours', (0.93, 0.93, 0.93)),
    ('foreign', (0.55, 0.35, 0.75)),
    ('free, zeroed', (0.55, 0.80, 0.95)),
    ('free, dirty', (0.98, 0.65, 0.20)),
    ('in use', (0.15, 0.35, 0.65)),
]


def load(path):
    snaps = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                snaps.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f'pagemap: {path}:{n}: not a snapshot line ({e})')
    if not snaps:
        raise SystemExit(f'pagemap: {path}: no snapshots')
    return snaps


def raster(snap, pages, width):
    import numpy as np
    rows = (pages + width - 1) // width
    img = np.zeros(rows * width, dtype=np.uint8)
    for first, count, state in snap['runs']:
        img[first:min(first + count, pages)] = state
    return img.reshape(rows, width)


def describe(snap):
    s = snap['stats']
    ps = snap['page_size']
    controlled = s['pages_in_use'] + s['pages_free_zeroed'] + s['pages_free_dirty']
    ratio = s['pages_in_use'] / controlled if controlled else 0.0
    mib = lambda pages: pages * ps / 2**20
    return '\n'.join([
        snap.get('label', ''),
        f'page {ps // 1024} KiB, memory {mib(snap["memory_pages"]):.0f} MiB',
        f'in use      {s["pages_in_use"]:6d}  ({mib(s["pages_in_use"]):.1f} MiB)',
        f'free zeroed {s["pages_free_zeroed"]:6d}',
        f'free dirty  {s["pages_free_dirty"]:6d}',
        f'foreign     {s["pages_external"]:6d}',
        f'largest free run {s["largest_free_run"]} pages',
        f'in use / controlled {ratio:.3f}',
        f'zeroed {s["bytes_zeroed"] / 2**20:.1f} MiB, sbrk {s["bytes_from_sbrk"] / 2**20:.1f} MiB',
    ])


def draw(snaps, out, width, title=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    pages = max(max(s['memory_pages'], max((f + c for f, c, _ in s['runs']), default=0)) for s in snaps)
    pages = max(pages, 1)
    rows = (pages + width - 1) // width
    cmap = ListedColormap([c for _, c in STATES])
    panel_h = max(1.9, min(6.0, rows / 40))
    fig, axes = plt.subplots(len(snaps), 2, figsize=(11, panel_h * len(snaps) + 0.8),
                             gridspec_kw={'width_ratios': [3, 2]}, squeeze=False)
    for i, snap in enumerate(snaps):
        ax, tx = axes[i]
        ax.imshow(raster(snap, pages, width), cmap=cmap, vmin=0, vmax=len(STATES) - 1,
                  interpolation='nearest', aspect='auto')
        ax.set_yticks([0, rows - 1])
        ps = snap['page_size']
        ax.set_yticklabels(['0', f'{(rows - 1) * width * ps / 2**20:.0f} MiB'], fontsize=7)
        ax.set_xticks([])
        ax.set_title(snap.get('label', f'snapshot {i + 1}'), fontsize=9, loc='left')
        tx.axis('off')
        tx.text(0, 1, describe(snap), va='top', family='monospace', fontsize=7.5)
    fig.legend(handles=[Patch(color=c, label=n) for n, c in STATES], loc='lower center',
               ncol=len(STATES), fontsize=8, frameon=False)
    fig.suptitle(title or f'mwpm page table, {width} pages per row', fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(prog='tools/pagemap', description=__doc__.split('\n')[0])
    ap.add_argument('dump', help='file of mwpm_dump() lines')
    ap.add_argument('-o', '--output', help='PNG to write (default: DUMP with .png)')
    ap.add_argument('--width', type=int, default=256, help='pages per row (default 256)')
    ap.add_argument('--title')
    args = ap.parse_args(argv)
    if not 16 <= args.width <= 4096:
        raise SystemExit('pagemap: --width must be between 16 and 4096')
    out = args.output or os.path.splitext(args.dump)[0] + '.png'
    draw(load(args.dump), out, args.width, args.title)
    print(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
