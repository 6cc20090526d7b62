#!/usr/bin/python3
"""Summarize GODEBUG=gctrace=1 lines in server logs: stop-the-world pauses.

    scripts/gctrace-stw.py LOG [SINCE_S]

Each gctrace line reads "gc N @T s P%: A+B+C ms clock, ...": A is the
sweep-termination stop-the-world, B the concurrent mark, C the
mark-termination stop-the-world (wall clock). Lines may carry a
"worker=N " prefix (wsreactor -procs). Only collections at T >= SINCE_S
(seconds since the process started) count. Prints, per log: collections,
STW pauses over 1/5/10/50 ms, the longest pause, the longest mark phase.
"""
import re
import sys

LINE = re.compile(r'gc \d+ @([\d.]+)s [\d.]+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock')


def main():
    path = sys.argv[1]
    since = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    pauses, marks, n = [], [], 0
    with open(path, errors='replace') as f:
        for line in f:
            m = LINE.search(line)
            if not m or float(m.group(1)) < since:
                continue
            n += 1
            a, b, c = float(m.group(2)), float(m.group(3)), float(m.group(4))
            pauses += [a, c]
            marks.append(b)
    if not n:
        print(f'{path}: no gctrace lines')
        return
    over = {t: sum(1 for p in pauses if p > t) for t in (1, 5, 10, 50)}
    print(f'{path}: {n} collections; STW pauses >1ms {over[1]}, >5ms {over[5]}, >10ms {over[10]}, >50ms {over[50]}; '
          f'longest STW {max(pauses):.2f} ms; longest mark {max(marks):.1f} ms')


if __name__ == '__main__':
    main()
