"""The CUDA side of ``mg.jit``: the eager step itself, captured into a CUDA Graph.

On the GPU the time of a small step goes to launching kernels, one per array operation, not to
the arithmetic.  CUDA can record the kernels a stream would launch (stream capture) into a
graph and launch the whole graph with one call.  CuPy exposes this as ``Stream.begin_capture()``
/ ``end_capture()`` and ``Graph.launch()``; PyTorch's ``torch.cuda.graph`` is the same idea.

What a capture needs, and how it is met here (as ``torch.cuda.graph`` meets it):

* **Fixed addresses.**  A graph replays the same kernels on the same memory.  The inputs are
  copied into static arrays the graph reads; the state (parameters, gradients, optimizer and
  batch-norm buffers) is changed in place by minigrad's optimizers and modules anyway; every
  temporary the step allocates comes from a memory pool private to this graph
  (``cupy.cuda.MemoryPool``), so no other allocation can be handed an address the graph writes.
* **A warm pool.**  ``cudaMalloc`` is not allowed while capturing, so one eager step runs with the
  private pool on the capture stream first (a real step, whose result is returned): the blocks
  the step needs are then in the pool, and the capture only reuses them.
* **No host synchronisation inside.**  A read back to the host (``.item()``, ``float(loss)``)
  fails under capture; it is reported as :class:`~minigrad.jit.trace.CaptureError` naming the line.
* **Random numbers.**  CuPy's generators keep their state on the device and advance it in the
  kernels that draw, so the captured dropout draws new masks at each launch, from the same
  generator eager code uses.
* **Work on the capturing stream.**  Everything runs under ``with stream:``: CuPy launches its
  kernels and cuBLAS calls on the current stream.

Capturing does not run anything: after ``end_capture()`` the graph is launched once to do the
step that was captured.
"""
from __future__ import annotations

import traceback
from typing import Any, Callable

from .. import devices
from ..tensor import make_tensor
from .program import split_result
from .trace import CaptureError, _PACKAGE_DIR


def available() -> bool:
    """CuPy importable, a CUDA device present, and stream capture in this CuPy."""
    try:
        cupy = devices.cupy_module()
    except Exception:  # noqa: BLE001 - no CuPy (or a broken one) means no graphs
        return False
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0 and hasattr(cupy.cuda.Stream, "begin_capture")
    except Exception:  # noqa: BLE001 - a driver without a device
        return False


class CudaGraphStep:
    """One input signature's graph: its stream, private pool, static inputs, and outputs."""

    def __init__(self, args: tuple) -> None:
        cupy = devices.cupy_module()
        self.cupy = cupy
        self.pool = cupy.cuda.MemoryPool()
        self.stream = cupy.cuda.Stream(non_blocking=True)
        with self.stream:
            self.static_inputs = [a._data.copy() for a in args]
        self.static_args = [make_tensor(s, a._requires_grad, None) for s, a in zip(self.static_inputs, args)]
        self.graph: Any = None
        self.outputs: list = []
        self.output_structure: Any = None

    def _copy_inputs(self, arrays: list) -> None:
        for static, a in zip(self.static_inputs, arrays):
            static[...] = a

    def warm(self, fn: Callable, args: tuple) -> Any:
        """One eager step with the private pool, on the capture stream (it fills the pool)."""
        with self.cupy.cuda.using_allocator(self.pool.malloc), self.stream:
            self._copy_inputs([a._data for a in args])
            result = fn(*self.static_args)
        self.stream.synchronize()
        return result

    def capture(self, fn: Callable, args: tuple) -> Any:
        """Capture ``fn`` into a graph, launch it once (the captured step), return its outputs."""
        with self.cupy.cuda.using_allocator(self.pool.malloc), self.stream:
            self._copy_inputs([a._data for a in args])
            self.stream.synchronize()
            self.stream.begin_capture()
            try:
                result = fn(*self.static_args)
            except Exception as e:
                try:
                    self.stream.end_capture()
                except Exception:  # noqa: BLE001 - the capture is already broken; report the cause
                    pass
                raise CaptureError(f"mg.jit: the step could not be captured into a CUDA Graph at {_user_frame(e)}: "
                                   f"{type(e).__name__}: {e}. Reads back to the host (.item(), float(), printing "
                                   "a tensor) and allocations outside the warmed pool are not allowed while "
                                   "capturing") from e
            self.graph = self.stream.end_capture()
        self.output_structure, items = split_result(result)
        self.outputs = [t._data for t in items]
        return self.run([a._data for a in args])

    def run(self, arrays: list) -> list:
        """Copy the inputs in, launch the graph, copy the outputs out (all on the stream)."""
        with self.stream:
            self._copy_inputs(arrays)
            self.graph.launch(self.stream)
            outputs = [o.copy() for o in self.outputs]
        return outputs


def _user_frame(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if not frame.filename.startswith(_PACKAGE_DIR) and "cupy" not in frame.filename:
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
