"""Runs one notebook on a fresh kernel with nbclient and exports it with nbconvert.

Started by notebook_runner.ts as `python3 notebook_runner.py JOB`, where JOB is JSON with the keys
notebook, kernel, timeout, title, outputPath, htmlPath, deno, marker and quietSeconds. Prints one
line, the marker followed by the result as JSON. A failing cell still gets its outputs written, so
the report shows the error where it happened.

Two checks plain nbclient lacks:
- output that arrives after its cell's "idle" status (the Deno kernel does that with a bare last
  expression's value) fails the run instead of landing in the wrong cell or nowhere;
- an error thrown in a timer or a promise rejection nothing awaited fails the run instead of only
  being printed on the kernel's own stderr.
"""

import json
import os
import queue
import subprocess
import sys
import tempfile
import time

JOB = json.loads(sys.argv[1])


def finish(result):
    print(JOB["marker"] + json.dumps(result), flush=True)
    sys.exit(0)


try:
    import nbformat
    from jinja2 import DictLoader
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete, CellExecutionError
    from nbclient.util import ensure_async
    if JOB["htmlPath"]:  # half a second to import, so only when there is HTML to write
        from nbconvert import HTMLExporter
except ImportError as error:
    finish({"missing": "module", "name": error.name})
try:
    KernelSpecManager().get_kernel_spec(JOB["kernel"])
except NoSuchKernel:
    finish({"missing": "kernel", "name": JOB["kernel"]})

# The lab template passes SVG outputs through lxml's clean_html, which strips <path>, <g>, viewBox
# and so every Plot chart: insert SVG verbatim, as it already does for text/html outputs. Drop
# require.js, a CDN script no output here needs. Scroll long code lines instead of clipping them.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_css -%}
<style>.jp-InputArea-editor { min-width: 0; } .jp-InputArea-editor .CodeMirror { overflow-x: auto; }</style>
{%- endblock html_head_css -%}
{% block data_svg scoped -%}
<div class="jp-RenderedSVG jp-OutputArea-output {{ extra_class }}" data-mime-type="image/svg+xml">
{{ output.data['image/svg+xml'] }}
</div>
{%- endblock data_svg %}
"""

# Sent silently before the first cell: errors that escape every cell (a throw in a timer, a
# rejection nothing awaits) become `error` outputs of the cell running when they happen.
ERROR_HOOKS = r"""
(() => {
  const send = (error, where) => {
    const e = error instanceof Error ? error : new Error(String(error));
    // Deno 2.9's broadcast sends synchronously, labelled with the cell running now.
    Promise.resolve(Deno.jupyter.broadcast("error", {
      ename: e.name,
      evalue: `${e.message} (${where})`,
      traceback: String(e.stack ?? e.message).split("\n"),
    })).catch(() => {});
  };
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    send(event.error ?? event.message, "thrown in a timer or callback, outside the cell's own code");
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    send(event.reason, "a promise rejected and nothing awaited it");
  });
})();
"""

OUTPUT_TYPES = {"stream", "display_data", "update_display_data", "execute_result", "error",
                "clear_output"}


def write_atomic(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


class UncaughtError(Exception):
    """An `error` output in a cell whose reply said "ok"."""

    def __init__(self, output):
        super().__init__(output.get("evalue", ""))
        self.ename = output.get("ename", "Error")
        self.evalue = output.get("evalue", "")


class DenoNotebookClient(NotebookClient):
    """nbclient that also records output arriving after its cell's "idle" (late output)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell_of_request = {}  # execute request id -> cell index
        self.cell_of_count = {}  # execution count -> cell index
        self.late = []  # {"index", "type", "reason"}
        self.hooks_installed = False

    def note_late(self, index, msg, reason):
        content = msg["content"]
        text = content.get("text") or content.get("data", {}).get("text/plain") or \
            content.get("evalue") or ""
        entry = {"index": index, "type": msg["msg_type"], "reason": reason, "text": text[:200]}
        if msg["msg_type"] == "error":
            entry["error"] = {key: content.get(key) for key in ("ename", "evalue", "traceback")}
        self.late.append(entry)

    async def install_error_hooks(self):
        msg_id = await ensure_async(self.kc.execute(ERROR_HOOKS, silent=True, store_history=False))
        while True:
            reply = await ensure_async(self.kc.shell_channel.get_msg(timeout=self.startup_timeout))
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if not self.hooks_installed and cell.cell_type == "code":
            await self.install_error_hooks()
            self.hooks_installed = True
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                raise UncaughtError(output)
        if cell_index == len(self.nb.cells) - 1:
            await self.check_after_last_cell(JOB["quietSeconds"])
        return cell

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        self.cell_of_request[parent_msg_id] = cell_index
        count = None
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            parent = msg["parent_header"].get("msg_id")
            if parent == parent_msg_id:
                if msg["msg_type"] == "execute_input":
                    count = msg["content"].get("execution_count")
                    self.cell_of_count[count] = cell_index
                if msg["msg_type"] == "execute_result" and \
                        msg["content"].get("execution_count") != count:
                    # A previous cell's value, labelled with this cell's request.
                    earlier = self.cell_of_count.get(msg["content"].get("execution_count"))
                    if earlier is not None:
                        self.note_late(earlier, msg, "arrived after the cell had finished")
                        self.keep_late(msg, earlier)
                    continue
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    return
            elif parent in self.cell_of_request and msg["msg_type"] in OUTPUT_TYPES:
                earlier = self.cell_of_request[parent]
                self.note_late(earlier, msg, "arrived after the cell had finished")
                self.keep_late(msg, earlier)

    def keep_late(self, msg, index):
        """Puts a late output in its own cell, so the written notebook still shows it."""
        try:
            self.process_message(msg, self.nb.cells[index], index)
        except CellExecutionComplete:
            pass

    async def check_after_last_cell(self, quiet_seconds):
        """Listens until the kernel has been quiet for `quiet_seconds`, at most ten times that."""
        deadline = time.monotonic() + 10 * quiet_seconds
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=quiet_seconds))
            except queue.Empty:
                return
            parent = msg["parent_header"].get("msg_id")
            if parent in self.cell_of_request and msg["msg_type"] in OUTPUT_TYPES:
                index = self.cell_of_request[parent]
                self.note_late(index, msg, "arrived after the cell had finished")
                self.keep_late(msg, index)


def syntax_error(source):
    """Deno's kernel replies "Execution failed" to code it cannot parse and sends no error output;
    `deno fmt` parses the cell alone and says where and why."""
    result = subprocess.run([JOB["deno"], "fmt", "--no-config", "--ext", "ts", "-"],
                            input=source, capture_output=True, text=True,
                            env={**os.environ, "NO_COLOR": "1"})
    if result.returncode == 0:
        return None
    text = result.stderr.split("\nStack backtrace:")[0].strip()
    text = text.removeprefix("error: ").replace("file:///", "").strip()
    first, _, rest = text.partition("\n")
    return {"output_type": "error", "ename": "SyntaxError",
            "evalue": first.removeprefix("SyntaxError: "),
            "traceback": [first] + rest.split("\n")}


nb = nbformat.read(JOB["notebook"], as_version=4)
folder = os.path.dirname(JOB["notebook"])
timings, current, started = [], {}, time.monotonic()


def on_cell_start(cell, cell_index):
    current.update(index=cell_index, start=time.monotonic())


def on_cell_executed(cell, cell_index, execute_reply):
    timings.append({"index": cell_index, "seconds": time.monotonic() - current["start"]})


client = DenoNotebookClient(nb, kernel_name=JOB["kernel"], timeout=JOB["timeout"],
                            startup_timeout=120, resources={"metadata": {"path": folder}},
                            on_cell_start=on_cell_start, on_cell_executed=on_cell_executed)
error = None
try:
    client.execute()
except Exception as exception:
    error = {"index": current.get("index"), "ename": type(exception).__name__,
             "evalue": str(exception), "traceback": []}
    cell = nb.cells[current["index"]] if "index" in current else None
    if cell is not None and isinstance(exception, CellExecutionError) and \
            not any(output.output_type == "error" for output in cell.outputs):
        found = syntax_error(cell.source)
        if found:
            cell.outputs.append(nbformat.from_dict(found))
    for output in (cell.outputs if cell is not None else []):
        if output.output_type == "error":
            error.update(ename=output.ename, evalue=output.evalue, traceback=output.traceback)
late_errors = [entry for entry in client.late if "error" in entry]
if error is None and late_errors:
    # An error that escaped its cell (a timer, a promise nothing awaited) and came out after the
    # cell's "idle" is still that error: report it, not merely its lateness.
    first = late_errors[0]
    error = {"index": first["index"], **first["error"], "late": client.late}
    error["traceback"] = error.get("traceback") or []
elif error is None and client.late:
    first = client.late[0]
    error = {"index": first["index"], "ename": "LateOutputError",
             "evalue": f"its {first['type']} output {first['text'][:80]!r} {first['reason']} "
                       f"(its \"idle\" status); {len(client.late)} late output(s) in all",
             "traceback": [], "late": client.late}
if JOB["outputPath"]:
    write_atomic(JOB["outputPath"], nbformat.writes(nb))
if JOB["htmlPath"]:
    exporter = HTMLExporter(extra_loaders=[DictLoader({"report.html.j2": TEMPLATE})],
                            template_file="report.html.j2", embed_images=True)
    html, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": JOB["title"], "path": folder}})
    write_atomic(JOB["htmlPath"], html)
finish({"timings": timings, "seconds": time.monotonic() - started, "error": error})
