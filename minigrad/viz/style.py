"""How each kind of vertex looks: label lines, shapes and colours, shared by the DOT
writer and the built-in SVG layout (used where Graphviz is missing)."""
from __future__ import annotations

from .graph import Item
from .summary import shape_text

__all__ = ["STYLES", "BAD_STYLE", "label_lines", "tooltip", "module_label"]

# Graphviz attributes per kind.  Inputs blue, parameters green, results white, outputs
# orange, ops pale yellow boxes, collapsed modules violet; NaN/inf always red.
STYLES: dict = {
    "input": {"shape": "ellipse", "style": "filled", "fillcolor": "#cfe8fc", "color": "#1565c0"},
    "const": {"shape": "ellipse", "style": "filled,dashed", "fillcolor": "#eeeeee", "color": "#616161"},
    "param": {"shape": "box", "style": "filled,rounded", "fillcolor": "#d4f4d2", "color": "#2e7d32"},
    "intermediate": {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff", "color": "#9e9e9e",
                     "fontsize": "9"},
    "output": {"shape": "ellipse", "style": "filled", "fillcolor": "#ffe0b2", "color": "#e65100",
               "peripheries": "2"},
    "op": {"shape": "box", "style": "filled", "fillcolor": "#fff9c4", "color": "#8d6e00"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#e1bee7", "color": "#6a1b9a"},
}
BAD_STYLE = {"fillcolor": "#ff8a80", "color": "#d50000", "penwidth": "2.5", "fontcolor": "#b71c1c"}


def label_lines(item: Item, show_shapes: bool = True, show_dtypes: bool = False) -> list:
    """The lines of an item's label, first line the name."""
    if item.kind == "op":
        lines = [item.name]
        if item.saved is not None:
            lines.append("saved: " + (", ".join(item.saved) if item.saved else "nothing"))
        return lines
    lines = [item.name] if item.name else []
    if item.value_text is not None:
        lines.append("= " + item.value_text)
    elif show_shapes and item.shape is not None:
        lines.append(shape_text(item.shape))
    if show_dtypes and item.dtype is not None:
        lines.append(f"{item.dtype} · {item.device}")
    elif item.device not in (None, "cpu"):  # off the CPU: always worth seeing
        lines.append(item.device)
    if item.grad_text:
        lines.append(item.grad_text)
    if item.bad:
        lines.append(f"{item.bad} in value")
    if item.grad_bad:
        lines.append(f"{item.grad_bad} in grad")
    return lines or [" "]


def tooltip(item: Item) -> str:
    """Everything known about an item in one line (SVG hover text)."""
    if item.kind == "op":
        where = " in " + module_label(item.modules[-1]) if item.modules else ""
        # the op's rank on the tape, not its absolute ``seq``: the text must not change between runs
        return f"{item.name} (op {item.id[2:]} in tape order){where}"
    parts = [item.name or item.kind]
    if item.shape is not None:
        parts.append(f"shape {shape_text(item.shape)}")
    if item.dtype is not None:
        parts.append(item.dtype)
    if item.device is not None:
        parts.append(item.device)
    parts.append(f"requires_grad={item.requires_grad}")
    return ", ".join(parts)


def module_label(entry: tuple) -> str:
    """``0: Linear`` for a sub-module, the class name alone for the traced root."""
    path, cls = entry
    return f"{path}: {cls}" if path else cls
