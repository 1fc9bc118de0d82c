"""The scaling curve from `cargo bench --bench scale`'s CSV: prove time, peak memory and
constraints against multiply-accumulates, per model kind and weight mode (the newest run of
each model and mode wins). Usage: plot.py SCALE_CSV OUT_PNG"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = {}
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        rows[(row["model"], row["mode"])] = row

series = {}
for (model, mode), row in rows.items():
    series.setdefault((row["kind"], mode), []).append(row)

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
panels = [
    ("prove_s", "prove time (s), best of 2", axes[0]),
    ("prove_peak_mib", "prover peak memory (MiB)", axes[1]),
    ("constraints", "constraints", axes[2]),
]
styles = {"fixed": "--", "committed": "-", "private": ":"}
for key, label, ax in panels:
    for (kind, mode), points in sorted(series.items()):
        points.sort(key=lambda r: int(r["macs"]))
        x = [int(r["macs"]) for r in points]
        y = [float(r[key]) for r in points]
        ax.plot(x, y, styles.get(mode, "-"), marker="o", label=f"{kind}, {mode} weights")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("multiply-accumulates per inference")
    ax.set_title(label)
    ax.grid(True, which="both", alpha=0.3)
axes[0].legend()
fig.suptitle("zkworker: Groth16 on BN254, 2-core VM, release build")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print(f"wrote {sys.argv[2]}")
