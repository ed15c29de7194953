"""Copy notebooks for .ci/laptop-like: cells tagged ``labkit-varies-by-host`` also get
``nbval-ignore-output`` (they run, and must not fail, but their output is the host's).

    python .ci/laptop_notebooks.py OUT_DIR NOTEBOOK...
"""
import json
import sys
from pathlib import Path

TAG = "labkit-varies-by-host"


def main(out: str, names: list[str]) -> None:
    for name in names:
        book = json.loads(Path(name).read_text())
        for cell in book["cells"]:
            tags = cell.get("metadata", {}).get("tags", [])
            if TAG in tags and "nbval-ignore-output" not in tags:
                cell["metadata"]["tags"] = [*tags, "nbval-ignore-output"]
        (Path(out) / Path(name).name).write_text(json.dumps(book, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
