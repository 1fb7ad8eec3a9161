"""Runs a notebook the way Jupyter frontends do Run All: every code cell's execute_request is sent
back to back on a fresh kernel, and each output goes to the cell whose request is its parent.

Usage: python3 run_all.py NOTEBOOK KERNEL TIMEOUT_SECONDS
Prints one JSON object: {"cells": [{"index", "outputs"}...], "late": n, "unknown": n}, where
outputs are nbformat outputs (streams of the same name merged, display updates applied), late counts
outputs that arrived after their cell's "idle" status (frontends still show them) and unknown counts
outputs whose parent is no cell's request.
"""

import json
import os
import queue
import sys
import time

from jupyter_client.manager import start_new_kernel

path, kernel, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(path, encoding="utf-8") as file:
    notebook = json.load(file)
cells = [(index, "".join(cell["source"])) for index, cell in enumerate(notebook["cells"])
         if cell["cell_type"] == "code" and "".join(cell["source"]).strip()]

km, kc = start_new_kernel(kernel_name=kernel, cwd=os.path.dirname(os.path.abspath(path)),
                          startup_timeout=120)
try:
    kc.allow_stdin = False
    requests = {kc.execute(source, stop_on_error=True): index for index, source in cells}
    outputs = {index: [] for index, _ in cells}
    displays = {}  # display_id -> list of output dicts carrying it
    idle, late, unknown = set(), 0, 0
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            if len(idle) == len(requests):
                if quiet_since is None:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > 1.0:
                    break
            continue
        quiet_since = None
        kind, content = msg["msg_type"], msg["content"]
        parent = msg["parent_header"].get("msg_id")
        if kind == "status":
            if content["execution_state"] == "idle" and parent in requests:
                idle.add(parent)
            continue
        if kind not in ("stream", "display_data", "execute_result", "error",
                        "update_display_data", "clear_output"):
            continue
        if parent not in requests:
            unknown += 1
            continue
        if parent in idle:
            late += 1
        outs = outputs[requests[parent]]
        display_id = content.get("transient", {}).get("display_id")
        if kind == "stream":
            if outs and outs[-1]["output_type"] == "stream" and outs[-1]["name"] == content["name"]:
                outs[-1]["text"] += content["text"]
            else:
                outs.append({"output_type": "stream", "name": content["name"],
                             "text": content["text"]})
        elif kind in ("display_data", "execute_result"):
            out = {"output_type": kind, "data": content["data"]}
            outs.append(out)
            if display_id:
                displays.setdefault(display_id, []).append(out)
        elif kind == "update_display_data":
            for out in displays.get(display_id, []):
                out["data"] = content["data"]
        elif kind == "error":
            outs.append({"output_type": "error", "ename": content["ename"],
                         "evalue": content["evalue"]})
        elif kind == "clear_output":
            outs.clear()
    else:
        raise TimeoutError(f"{path}: Run All did not finish within {timeout} s")
    print(json.dumps({"cells": [{"index": index, "outputs": outputs[index]} for index, _ in cells],
                      "late": late, "unknown": unknown}))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
