"""Executes a notebook headless with nbclient (the way CI runs the generated notebooks):

    EP_API_KEY=ep_... /usr/bin/python3 clients/python/tests/run_notebook.py in.ipynb [out.ipynb]

Prints each code cell's text output; exits 1 when a cell fails (the error and the cell's source are printed).
"""

import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    nb = nbformat.read(argv[1], as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=False)
    failed = None
    try:
        client.execute()
    except CellExecutionError as e:
        failed = e
    if len(argv) > 2:
        nbformat.write(nb, argv[2])
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                sys.stdout.write("[%d] %s" % (i, out.text))
            elif out.output_type in ("execute_result", "display_data"):
                sys.stdout.write("[%d] %s\n" % (i, out.get("data", {}).get("text/plain", "")[:2000]))
    if failed is not None:
        print("FAILED: %s" % failed)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
