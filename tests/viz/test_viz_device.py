"""Drawing and the viewer on each device (CUDA cases skip without a GPU)."""
import minigrad as mg
from minigrad import viz

from viz_helpers import parse_dot


def test_graph_and_viewer_on_device(device):
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    w = mg.tensor([[1.0, 0.0], [0.5, -1.0]], device=device, requires_grad=True)
    with viz.trace():
        loss = (x @ w).tanh().sum()
    nodes, _, _, _, _ = parse_dot(viz.draw_graph(loss, params={"w": w}, show_dtypes=True).to_dot())
    assert nodes["t1"] == f"w\n(2, 2)\nfloat32 · {mg.device(device)}"
    plain, _, _, _, _ = parse_dot(viz.draw_graph(loss, params={"w": w}).to_dot())
    assert plain["t1"] == ("w\n(2, 2)" if device == "cpu" else f"w\n(2, 2)\n{mg.device(device)}")
    _, steps, final = viz.backward_steps(loss, params={"w": w})
    loss.backward()
    by_label = {f["label"]: f["grad"]["values"] for f in final}
    expected = [f"{v:.4g}" for v in w.grad.cpu().numpy().reshape(-1)]
    assert by_label["w"] == expected
    bad = mg.tensor([float("inf"), 1.0], device=device, requires_grad=True)
    items = viz.draw_graph((bad * 2).sum()).graph.items
    assert items[0].bad == "inf"
