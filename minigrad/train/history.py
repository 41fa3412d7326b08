"""``History``: what ``fit`` measured, one row per epoch, with plotting and export."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Iterator


class History:
    """Per-epoch metrics: ``history.rows`` is a list of dicts (epoch, train_loss, val_accuracy,
    lr, time, ...), one per epoch.

    ``history["val_loss"]`` is that column as a list (None in rows without a value);
    ``"val_loss" in history`` asks whether the column exists; ``for row in history`` goes over
    the rows; ``len(history)`` is the number of rows.  Row ``i`` is ``history.rows[i]``.
    """

    def __init__(self, rows: list | None = None) -> None:
        self.rows: list = list(rows or [])

    def append(self, row: dict) -> None:
        self.rows.append(dict(row))

    def __getitem__(self, key: str) -> list:
        """The column ``key``, one value per row (None where a row lacks it).

        Raises TypeError for a non-string key and KeyError for a column no row has."""
        if not isinstance(key, str):
            raise TypeError(f"History columns are named by strings (history['val_loss']), got {key!r}; "
                            "for row i use history.rows[i]")
        if key not in self:
            columns = ", ".join(self.keys()) or "none (the history has no rows)"
            raise KeyError(f"History has no column {key!r}; its columns: {columns}")
        return [r.get(key) for r in self.rows]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and any(key in r for r in self.rows)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def keys(self) -> list:
        seen: dict = {}
        for r in self.rows:
            for k in r:
                seen.setdefault(k, None)
        return list(seen)

    def best(self, key: str, mode: str = "max") -> dict | None:
        """The row with the best value of ``key``."""
        rows = [r for r in self.rows if r.get(key) is not None and not math.isnan(r[key])]
        if not rows:
            return None
        return (max if mode == "max" else min)(rows, key=lambda r: r[key])

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.rows, indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.keys())
        writer.writeheader()
        writer.writerows(self.rows)
        if path is not None:
            Path(path).write_text(buf.getvalue())
        return buf.getvalue()

    def state_dict(self) -> dict:
        return {"rows": [dict(r) for r in self.rows]}

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        return cls(state.get("rows", []))

    def plot(self, path: str | Path, title: str | None = None) -> Path:
        """Loss and accuracy curves (training and validation) as a PNG (needs matplotlib)."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise RuntimeError("History.plot needs matplotlib: pip install matplotlib") from None
        epochs = [r.get("epoch", i + 1) for i, r in enumerate(self.rows)]
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, metric in zip(axes, ("loss", "accuracy")):
            for split, style in (("train", "-o"), ("val", "-s")):
                values = [r.get(f"{split}_{metric}") for r in self.rows]  # a column may be absent
                if any(v is not None for v in values):
                    ys = [100 * v if (v is not None and metric == "accuracy") else v for v in values]
                    ax.plot(epochs, ys, style, markersize=3, label=f"{'training' if split == 'train' else 'validation'}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric + (" (%)" if metric == "accuracy" else ""))
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend()
        if title:
            import textwrap

            fig.suptitle(textwrap.fill(title, 120), fontsize=9)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path
