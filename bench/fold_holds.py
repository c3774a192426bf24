"""Prints the write-lock hold times of the fold passes in a serve log
(`keeper: folded ... write lock held T ms (commit C ms)`) as one phrase:
passes, mean, p90 and max hold, mean COMMIT share. Nothing for a log
without passes. Used by bench/ab_signups.sh and bench/ab_mixed.sh."""
import re
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    passes = [(float(m.group(1)), float(m.group(2) or "nan")) for m in
              re.finditer(r"write lock held ([0-9.]+) ms(?: \(commit ([0-9.]+) ms\))?", f.read())]
if passes:
    holds = sorted(h for h, _ in passes)
    commits = [c for _, c in passes]
    print(f"{len(holds)} passes, hold mean {sum(holds) / len(holds):.1f} ms, "
          f"p90 {holds[int(len(holds) * 0.9)]:.1f}, max {holds[-1]:.1f}, "
          f"commit mean {sum(commits) / len(commits):.1f}")
